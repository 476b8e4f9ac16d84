"""Tests of the iterative (self-consistent) IB solver against truths from outside it.

Truth comes from: every reported quantity recomputed from the returned encoder with
:mod:`ibkit.measures` (p(t) = Σ_x p(x)p(t|x), p(t,y) = Σ_x p(t|x)p(x,y)); one more step
of the self-consistent equations of Tishby, Pereira & Bialek (2000) / Strouse & Schwab
(2017), written below as a plain numpy formula (``reference_step``), which must leave a
converged encoder where it is; the limits of the IB curve (β ≤ 1 gives the trivial
solution, β → ∞ the minimal sufficient statistic, i.e. the groups of identical p(y|x));
the data-processing inequalities; invariances (row permutations, units, seeds); and
every validation message at the public edge.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_allclose
from scipy.special import rel_entr

from ibkit import ConvergenceWarning
from ibkit.ib import IBResult, iterative_ib
from ibkit.measures import entropy, mutual_information

LN2 = math.log(2.0)

# --------------------------------------------------------------------------- problems and helpers


def random_joint(seed: int, n_x: int = 6, n_y: int = 4) -> np.ndarray:
    """Generic joint: Dirichlet(1) conditionals and marginal (no ties, no zeros)."""
    rng = np.random.default_rng(seed)
    joint = rng.dirichlet(np.ones(n_x))[:, None] * rng.dirichlet(np.ones(n_y), size=n_x)
    return joint / joint.sum()


# Seven inputs whose conditionals p(y|x) fall into three groups: the minimal sufficient
# statistic of X about Y is the group label, so I(X;Y) = I(group; Y).
GROUP_COND = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6]])
GROUPS = np.array([0, 1, 2, 0, 1, 2, 0])
GROUP_P_X = np.array([0.1, 0.2, 0.15, 0.15, 0.1, 0.2, 0.1])
GROUPED = GROUP_P_X[:, None] * GROUP_COND[GROUPS]

# A joint with zeros inside the conditionals (sparse p(y|x)).
SPARSE = np.array(
    [
        [0.10, 0.00, 0.05, 0.00],
        [0.00, 0.15, 0.00, 0.05],
        [0.05, 0.05, 0.00, 0.00],
        [0.00, 0.00, 0.20, 0.10],
        [0.12, 0.00, 0.00, 0.13],
    ]
)


def one_hot(labels: np.ndarray, k: int | None = None) -> np.ndarray:
    k = int(labels.max()) + 1 if k is None else k
    return np.eye(k)[labels]


def same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two labellings induce the same partition of the inputs."""
    return bool(((a[:, None] == a[None, :]) == (b[:, None] == b[None, :])).all())


def reference_step(p_xy: np.ndarray, enc: np.ndarray, beta: float, alpha: float) -> np.ndarray:
    """One self-consistent update of the generalised IB, for inputs with p(x) > 0.

    p(t) = Σ_x p(x) p(t|x),  p(y|t) = Σ_x p(x,y) p(t|x) / p(t),
    d(x,t) = KL[p(y|x) ‖ p(y|t)],
    p(t|x) ∝ exp((log p(t) − β d(x,t)) / α)   (α > 0), or the argmax of the exponent (α = 0).
    """
    p_x = p_xy.sum(axis=1)
    live = p_x > 0
    p_t = p_x @ enc
    p_y_given_t = (enc.T @ p_xy) / p_t[:, None]
    p_y_given_x = p_xy[live] / p_x[live, None]
    d = rel_entr(p_y_given_x[:, None, :], p_y_given_t[None, :, :]).sum(axis=2)
    score = np.log(p_t)[None, :] - beta * d  # −inf where x has mass outside p(y|t)
    if alpha == 0:
        return np.eye(p_t.size)[score.argmax(axis=1)]
    score = score / alpha
    weights = np.exp(score - score.max(axis=1, keepdims=True))
    return weights / weights.sum(axis=1, keepdims=True)


def recomputed(p_xy: np.ndarray, enc: np.ndarray, units: str = "bits") -> dict[str, object]:
    """Everything an IBResult reports, recomputed from the encoder with ibkit.measures."""
    p_x = p_xy.sum(axis=1)
    p_xt = p_x[:, None] * enc
    p_t = p_xt.sum(axis=0)
    p_ty = enc.T @ p_xy
    return {
        "p_t": p_t,
        "p_y_given_t": p_ty / p_t[:, None],
        "i_xt": mutual_information(p_xt, units=units),
        "i_ty": mutual_information(p_ty, units=units),
        "h_t": entropy(p_t, units=units),
        "h_x": entropy(p_x, units=units),
        "i_xy": mutual_information(p_xy, units=units),
    }


def assert_all_finite(res: IBResult) -> None:
    for name in ("p_t_given_x", "p_t", "p_y_given_t"):
        assert np.isfinite(getattr(res, name)).all(), name
    for name in ("i_xt", "i_ty", "h_t", "objective"):
        assert np.isfinite(getattr(res, name)), name


# --------------------------------------------------------------------------- reported quantities


@pytest.mark.parametrize("alpha", [1.0, 0.5, 0.0])
@pytest.mark.parametrize(("seed", "beta"), [(0, 2.0), (1, 5.0), (2, 20.0), (3, 100.0)])
def test_reported_quantities_match_the_encoder(seed, beta, alpha):
    p_xy = random_joint(seed)
    res = iterative_ib(p_xy, beta, alpha=alpha, random_state=seed)
    assert isinstance(res, IBResult)
    assert res.converged
    enc = res.p_t_given_x
    assert enc.shape == (p_xy.shape[0], res.p_t.size)
    assert res.p_y_given_t.shape == (res.p_t.size, p_xy.shape[1])
    assert (enc >= 0).all()
    assert_allclose(enc.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    assert_allclose(res.p_y_given_t.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    assert res.n_clusters == res.p_t.size == int((res.p_t > 0).sum())
    truth = recomputed(p_xy, enc)
    assert_allclose(res.p_t, truth["p_t"], rtol=1e-12, atol=1e-15)
    assert_allclose(res.p_y_given_t, truth["p_y_given_t"], rtol=1e-10, atol=1e-14)
    assert_allclose(res.i_xt, truth["i_xt"], rtol=1e-9, atol=1e-12)
    assert_allclose(res.i_ty, truth["i_ty"], rtol=1e-9, atol=1e-12)
    assert_allclose(res.h_t, truth["h_t"], rtol=1e-12, atol=1e-14)
    # generalised objective H(T) − α H(T|X) − β I(T;Y), with H(T|X) = H(T) − I(X;T)
    h_t_given_x = truth["h_t"] - truth["i_xt"]
    expected = truth["h_t"] - alpha * h_t_given_x - beta * truth["i_ty"]
    assert_allclose(res.objective, expected, rtol=1e-9, atol=1e-9)
    assert (res.beta, res.alpha, res.units) == (beta, alpha, "bits")
    assert res.to_dict()["n_iter"] == res.n_iter >= 1


def test_objective_is_the_ib_lagrangian_at_alpha_1_and_dib_at_alpha_0():
    p_xy = random_joint(7)
    ib = iterative_ib(p_xy, 4.0, alpha=1.0, random_state=0)
    assert_allclose(ib.objective, ib.i_xt - 4.0 * ib.i_ty, rtol=1e-12, atol=1e-12)
    dib = iterative_ib(p_xy, 4.0, alpha=0.0, random_state=0)
    assert_allclose(dib.objective, dib.h_t - 4.0 * dib.i_ty, rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------- fixed point


@pytest.mark.parametrize("alpha", [1.0, 0.5, 0.0])
@pytest.mark.parametrize(
    ("p_xy", "beta", "seed"),
    [
        (random_joint(0), 2.0, 0),
        (random_joint(1), 5.0, 1),
        (random_joint(2, n_x=8, n_y=3), 10.0, 2),
        (random_joint(4, n_x=5, n_y=5), 30.0, 4),
        (GROUPED, 3.0, 5),
        (SPARSE, 4.0, 6),
    ],
)
def test_converged_encoder_is_a_fixed_point(p_xy, beta, seed, alpha):
    res = iterative_ib(p_xy, beta, alpha=alpha, random_state=seed)
    assert res.converged
    step = reference_step(p_xy, res.p_t_given_x, beta, alpha)
    assert_allclose(step, res.p_t_given_x, rtol=0, atol=1e-6)


def test_convergence_is_not_declared_before_a_growing_cluster_takes_over():
    counts = np.array([[4, 0, 0], [6, 2, 5], [1, 6, 5]])
    init = np.array([[0.46, 0.08, 0.46], [0.58, 0.17, 0.25], [0.29, 0.24, 0.47]])
    res = iterative_ib(counts, 2000.0, init=init, normalize=True)
    assert res.converged
    step = reference_step(counts / counts.sum(), res.p_t_given_x, 2000.0, 1.0)
    assert_allclose(step, res.p_t_given_x, rtol=0, atol=1e-6)


# --------------------------------------------------------------------------- limits of β


def noisy_joint() -> np.ndarray:
    # every p(y|x) has full support, so the first phase transition lies above β = 1
    return 0.8 * random_joint(11, n_x=5, n_y=3) + 0.2 / 15


@pytest.mark.parametrize("beta", [0.1, 0.5, 0.9, 1.0])
@pytest.mark.parametrize(
    "p_xy", [noisy_joint(), GROUPED, random_joint(12)], ids=["noisy", "grouped", "generic"]
)
def test_small_beta_gives_the_trivial_solution(p_xy, beta):
    for seed in range(3):
        res = iterative_ib(p_xy, beta, random_state=seed)
        assert res.converged
        assert_allclose(res.i_xt, 0.0, atol=1e-7)
        assert_allclose(res.i_ty, 0.0, atol=1e-7)
        # every input is sent through the same p(t|x) = p(t)
        assert_allclose(res.p_t_given_x, np.broadcast_to(res.p_t, res.p_t_given_x.shape), atol=1e-4)


def test_small_beta_is_trivial_even_for_a_deterministic_labelling():
    p_xy = np.array([[0.25, 0.0], [0.25, 0.0], [0.0, 0.5]])
    res = iterative_ib(p_xy, 0.5, random_state=0)
    assert_allclose(res.i_xt, 0.0, atol=1e-7)


@pytest.mark.parametrize("beta", [1e3, 1e6, 1e12])
def test_large_beta_recovers_the_groups(beta):
    # enough clusters: every input starts in a cluster of its own
    res = iterative_ib(GROUPED, beta, init=np.eye(7))
    assert res.converged
    assert_all_finite(res)
    assert res.n_clusters == 3
    assert same_partition(res.p_t_given_x.argmax(axis=1), GROUPS)
    assert_allclose(res.p_t_given_x, one_hot(res.p_t_given_x.argmax(axis=1), 3), atol=1e-12)
    truth = recomputed(GROUPED, res.p_t_given_x)
    assert_allclose(res.i_ty, truth["i_xy"], rtol=1e-10)
    # the decoders are the three group conditionals
    order = np.argsort(res.p_y_given_t[:, 0])
    assert_allclose(res.p_y_given_t[order], GROUP_COND[np.argsort(GROUP_COND[:, 0])], rtol=1e-12)
    # and I(X;T) = H(group)
    p_group = np.bincount(GROUPS, weights=GROUP_P_X)
    assert_allclose(res.i_xt, entropy(p_group), rtol=1e-10)


@pytest.mark.parametrize("beta", [1e3, 1e6])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_large_beta_random_start_reaches_a_finite_hard_solution(beta, seed):
    p_xy = random_joint(seed)
    res = iterative_ib(p_xy, beta, n_clusters=p_xy.shape[0], random_state=seed)
    assert_all_finite(res)
    assert res.converged
    truth = recomputed(p_xy, res.p_t_given_x)
    assert res.i_ty <= truth["i_xy"] + 1e-12
    # at this β the encoder is hard: each input goes to its best cluster
    assert_allclose(res.p_t_given_x.max(axis=1), 1.0, atol=1e-9)


def test_large_beta_on_distinct_conditionals_keeps_all_information():
    # a bijective labelling: all six conditionals distinct, identity start
    p_xy = random_joint(9)
    res = iterative_ib(p_xy, 1e6, init=np.eye(6))
    assert res.n_clusters == 6
    assert_allclose(res.i_ty, mutual_information(p_xy), rtol=1e-12)


# --------------------------------------------------------------------------- DIB


@pytest.mark.parametrize("beta", [0.5, 2.0, 5.0, 50.0, 1e6])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dib_encoder_is_hard(beta, seed):
    p_xy = random_joint(seed, n_x=7, n_y=3)
    res = iterative_ib(p_xy, beta, alpha=0.0, random_state=seed)
    assert res.converged
    enc = res.p_t_given_x
    assert set(np.unique(enc)) <= {0.0, 1.0}
    assert_allclose(enc.sum(axis=1), 1.0, rtol=0, atol=0)
    # H(T|X) = 0, so I(X;T) = H(T)
    assert_allclose(res.h_t, res.i_xt, rtol=1e-14, atol=0)
    assert_allclose(res.h_t, recomputed(p_xy, enc)["h_t"], rtol=1e-12)
    assert_allclose(res.objective, res.h_t - beta * res.i_ty, rtol=1e-12, atol=1e-9)


def test_dib_from_a_soft_init_is_hard_after_one_step():
    init = np.full((6, 3), 1 / 3)
    init[:, 0] += [0.1, -0.1, 0.05, 0.0, 0.02, -0.02]
    init[:, 1] -= [0.1, -0.1, 0.05, 0.0, 0.02, -0.02]
    res = iterative_ib(random_joint(3), 5.0, alpha=0.0, init=init)
    assert set(np.unique(res.p_t_given_x)) <= {0.0, 1.0}


# --------------------------------------------------------------------------- zeros


@pytest.mark.parametrize("alpha", [1.0, 0.0])
@pytest.mark.parametrize("beta", [0.5, 3.0, 1e6])
def test_zero_mass_rows_are_allowed(alpha, beta):
    p_xy = np.insert(random_joint(5), [0, 3], 0.0, axis=0)  # rows 0 and 4 carry no mass
    assert (p_xy.sum(axis=1) == 0).sum() == 2
    res = iterative_ib(p_xy, beta, alpha=alpha, random_state=0)
    assert_all_finite(res)
    assert res.p_t_given_x.shape[0] == 8
    assert_allclose(res.p_t_given_x.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    if alpha == 1.0:  # documented: a row of zero mass gets p(t)
        assert_allclose(res.p_t_given_x[[0, 4]], np.stack([res.p_t, res.p_t]), atol=1e-12)
    # zero-mass rows carry no weight: the answer is the one without them
    ref = iterative_ib(np.delete(p_xy, [0, 4], axis=0), beta, alpha=alpha, random_state=0)
    assert_allclose([res.i_xt, res.i_ty, res.h_t], [ref.i_xt, ref.i_ty, ref.h_t], atol=1e-9)
    truth = recomputed(p_xy, res.p_t_given_x)
    assert_allclose([res.i_xt, res.i_ty], [truth["i_xt"], truth["i_ty"]], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("alpha", [1.0, 0.5, 0.0])
@pytest.mark.parametrize("beta", [0.5, 2.0, 10.0, 1e3, 1e6])
def test_sparse_conditionals(alpha, beta):
    for seed in range(3):
        res = iterative_ib(SPARSE, beta, alpha=alpha, random_state=seed)
        assert_all_finite(res)
        assert res.converged
        assert_allclose(res.p_t_given_x.sum(axis=1), 1.0, rtol=0, atol=1e-12)
        truth = recomputed(SPARSE, res.p_t_given_x)
        assert_allclose(res.i_ty, truth["i_ty"], rtol=1e-9, atol=1e-12)
        assert res.i_ty <= min(res.i_xt, truth["i_xy"]) + 1e-9


def test_tiny_cells_are_finite():
    p_xy = random_joint(8)
    p_xy[0, 0] = 1e-300
    p_xy[1, :] = [1e-300, 0.0, 0.0, 1e-300]
    p_xy /= p_xy.sum()
    for beta in (2.0, 1e6):
        assert_all_finite(iterative_ib(p_xy, beta, random_state=0))


# --------------------------------------------------------------------------- init


def test_init_at_the_groups_stays_there():
    init = one_hot(GROUPS)
    res = iterative_ib(GROUPED, 1e3, init=init)
    assert res.converged
    assert res.n_iter <= 2
    assert_allclose(res.p_t_given_x, init, rtol=0, atol=1e-12)


def test_init_is_used():
    # the trivial encoder is a fixed point at every β: starting there, one stays there
    res = iterative_ib(GROUPED, 1e3, init=np.ones((7, 1)))
    assert res.n_clusters == 1
    assert res.i_xt == 0.0
    # while a random start at the same β finds information
    assert iterative_ib(GROUPED, 1e3, random_state=0).i_ty > 0.1


def test_init_rows_are_renormalised_within_tolerance():
    init = one_hot(GROUPS) * (1 + 1e-9)
    res = iterative_ib(GROUPED, 1e3, init=init)
    assert_allclose(res.p_t_given_x, one_hot(GROUPS), rtol=0, atol=1e-12)


def test_init_and_n_clusters_together_are_refused():
    with pytest.raises(ValueError, match=r"pass either init or n_clusters, not both"):
        iterative_ib(GROUPED, 5.0, init=one_hot(GROUPS), n_clusters=3)


def test_n_clusters_up_to_the_number_of_inputs_is_accepted():
    # GROUPED has 7 inputs but 3 distinct conditionals: any count up to |X| = 7 is valid
    for k in (3, 7):
        res = iterative_ib(GROUPED, 1e3, n_clusters=k, random_state=0)
        assert_allclose(res.i_ty, mutual_information(GROUPED), rtol=1e-9)


def test_n_clusters_bounds_the_clusters():
    p_xy = random_joint(0, n_x=8, n_y=4)
    for k in (1, 2, 3):
        res = iterative_ib(p_xy, 50.0, n_clusters=k, random_state=0)
        assert res.n_clusters <= k
    assert iterative_ib(p_xy, 50.0, n_clusters=1, random_state=0).i_xt == 0.0


# --------------------------------------------------------------------------- seeds and convergence


def _same(a: IBResult, b: IBResult) -> None:
    assert_allclose(a.p_t_given_x, b.p_t_given_x, rtol=0, atol=0)
    assert_allclose(
        [a.i_xt, a.i_ty, a.h_t, a.objective], [b.i_xt, b.i_ty, b.h_t, b.objective], rtol=0, atol=0
    )
    assert a.n_iter == b.n_iter


@pytest.mark.parametrize("alpha", [1.0, 0.0])
def test_same_seed_same_result(alpha):
    p_xy = random_joint(2)
    _same(
        iterative_ib(p_xy, 5.0, alpha=alpha, random_state=3),
        iterative_ib(p_xy, 5.0, alpha=alpha, random_state=3),
    )
    # a Generator is accepted; default_rng(3) is what the int 3 seeds
    _same(
        iterative_ib(p_xy, 5.0, alpha=alpha, random_state=np.random.default_rng(3)),
        iterative_ib(p_xy, 5.0, alpha=alpha, random_state=3),
    )
    _same(
        iterative_ib(p_xy, 5.0, alpha=alpha, random_state=np.random.SeedSequence(3)),
        iterative_ib(p_xy, 5.0, alpha=alpha, random_state=3),
    )


def test_different_seeds_start_differently():
    p_xy = random_joint(2)
    with pytest.warns(ConvergenceWarning):
        r0 = iterative_ib(p_xy, 5.0, max_iter=1, random_state=0)
    with pytest.warns(ConvergenceWarning):
        r1 = iterative_ib(p_xy, 5.0, max_iter=1, random_state=1)
    assert np.abs(r0.p_t_given_x - r1.p_t_given_x).max() > 1e-3


@pytest.mark.parametrize("alpha", [1.0, 0.5])
def test_max_iter_1_warns_and_reports_not_converged(alpha):
    with pytest.warns(ConvergenceWarning, match=r"did not converge in max_iter=1 iterations"):
        res = iterative_ib(random_joint(1), 5.0, alpha=alpha, max_iter=1, random_state=0)
    assert res.converged is False
    assert res.n_iter == 1
    assert_all_finite(res)
    assert_allclose(res.p_t_given_x.sum(axis=1), 1.0, rtol=0, atol=1e-12)


def test_convergence_reports_iterations():
    res = iterative_ib(random_joint(1), 5.0, random_state=0)
    assert res.converged is True
    assert 1 <= res.n_iter <= 1000
    with pytest.warns(ConvergenceWarning):
        short = iterative_ib(random_joint(1), 5.0, random_state=0, max_iter=res.n_iter - 1)
    assert short.n_iter == res.n_iter - 1 and not short.converged


# --------------------------------------------------------------------------- invariance


@pytest.mark.parametrize("alpha", [1.0, 0.0])
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_row_permutation_permutes_the_encoder(seed, alpha):
    rng = np.random.default_rng(100 + seed)
    p_xy = random_joint(seed, n_x=7, n_y=3)
    init = rng.dirichlet(np.ones(4), size=7)
    perm = rng.permutation(7)
    beta = [2.0, 5.0, 12.0, 40.0][seed]
    res = iterative_ib(p_xy, beta, alpha=alpha, init=init)
    res_p = iterative_ib(p_xy[perm], beta, alpha=alpha, init=init[perm])
    assert res.n_clusters == res_p.n_clusters
    assert_allclose(res_p.p_t_given_x, res.p_t_given_x[perm], rtol=0, atol=1e-7)
    assert_allclose(res_p.p_y_given_t, res.p_y_given_t, rtol=0, atol=1e-7)
    assert_allclose([res_p.i_xt, res_p.i_ty], [res.i_xt, res.i_ty], rtol=1e-9, atol=1e-12)


_cell = st.one_of(st.just(0.0), st.floats(0.01, 1.0))


@st.composite
def joints(draw) -> np.ndarray:
    n_x = draw(st.integers(1, 5))
    n_y = draw(st.integers(1, 4))
    a = draw(arrays(np.float64, (n_x, n_y), elements=_cell).filter(lambda a: a.sum() > 0))
    return a / a.sum()


@pytest.mark.filterwarnings("ignore::ibkit.ConvergenceWarning")
@given(
    p_xy=joints(),
    beta=st.floats(0.1, 1e4),
    alpha=st.sampled_from([0.0, 0.5, 1.0]),
    seed=st.integers(0, 2**16),
)
@settings(max_examples=30, deadline=None)
def test_information_inequalities(p_xy, beta, alpha, seed):
    res = iterative_ib(p_xy, beta, alpha=alpha, random_state=seed)
    assert_all_finite(res)
    assert_allclose(res.p_t_given_x.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    truth = recomputed(p_xy, res.p_t_given_x)
    # data processing along Y — X — T, and I(X;T) ≤ H(X)
    assert 0.0 <= res.i_ty <= min(res.i_xt, truth["i_xy"]) + 1e-9
    assert 0.0 <= res.i_xt <= truth["h_x"] + 1e-9
    assert res.i_xt <= res.h_t + 1e-9
    assert_allclose(res.i_xt, truth["i_xt"], rtol=1e-9, atol=1e-9)
    assert_allclose(res.i_ty, truth["i_ty"], rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("alpha", [1.0, 0.0])
def test_nats_are_bits_times_ln2(alpha):
    p_xy = random_joint(4)
    bits = iterative_ib(p_xy, 6.0, alpha=alpha, random_state=0)
    nats = iterative_ib(p_xy, 6.0, alpha=alpha, random_state=0, units="nats")
    assert nats.units == "nats"
    assert_allclose(nats.p_t_given_x, bits.p_t_given_x, rtol=0, atol=0)
    assert_allclose(
        [nats.i_xt, nats.i_ty, nats.h_t, nats.objective],
        np.array([bits.i_xt, bits.i_ty, bits.h_t, bits.objective]) * LN2,
        rtol=1e-12,
    )
    assert_allclose(nats.i_ty, recomputed(p_xy, nats.p_t_given_x, "nats")["i_ty"], rtol=1e-9)


def test_normalize_accepts_counts():
    counts = np.round(random_joint(6) * 1000)
    a = iterative_ib(counts, 5.0, normalize=True, random_state=0)
    b = iterative_ib(counts / counts.sum(), 5.0, random_state=0)
    _same(a, b)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("p_xy", "match"),
    [
        ([[0.5, -0.1], [0.3, 0.3]], r"p_xy has 1 negative entries"),
        ([[0.5, np.nan], [0.25, 0.25]], r"p_xy has 1 NaN or infinite entries"),
        ([[0.5, np.inf], [0.25, 0.25]], r"p_xy has 1 NaN or infinite entries"),
        ([0.5, 0.5], r"p_xy must be 2-D; got an array of shape \(2,\)"),
        (np.full((2, 2, 2), 0.125), r"p_xy must be 2-D; got an array of shape \(2, 2, 2\)"),
        ([[0.5, 0.5], [0.25, 0.25]], r"p_xy sums to 1\.5, not 1; pass probabilities or set"),
        ([[0.0, 0.0], [0.0, 0.0]], r"p_xy is all zeros"),
        (np.zeros((0, 3)), r"p_xy is empty"),
        ("abc", r"p_xy must be a numeric array"),
    ],
)
def test_bad_joint(p_xy, match):
    with pytest.raises(ValueError, match=match):
        iterative_ib(p_xy, 5.0)


def test_all_zeros_is_refused_with_normalize_too():
    with pytest.raises(ValueError, match=r"p_xy is all zeros"):
        iterative_ib(np.zeros((2, 2)), 5.0, normalize=True)


@pytest.mark.parametrize(
    ("beta", "match"),
    [
        (0, r"beta must be a finite number > 0; got 0"),
        (0.0, r"beta must be a finite number > 0; got 0\.0"),
        (-1, r"beta must be a finite number > 0; got -1"),
        (float("nan"), r"beta must be a finite number > 0; got nan"),
        (float("inf"), r"beta must be a finite number > 0; got inf"),
        ("a", r"beta must be a real number; got 'a'"),
        (None, r"beta must be a real number; got None"),
        (True, r"beta must be a real number; got True"),
    ],
)
def test_bad_beta(beta, match):
    with pytest.raises(ValueError, match=match):
        iterative_ib(GROUPED, beta)


@pytest.mark.parametrize(
    ("init", "match"),
    [
        (np.full((6, 3), 1 / 3), r"init must be an encoder of shape \(\|X\|, \|T\|\) = \(7, k\)"),
        (np.full((7,), 1.0), r"init must be 2-D; got an array of shape \(7,\)"),
        (np.full((7, 2), 0.4), r"init rows must each sum to 1 \(p\(t\|x\)\); row 0 sums to 0\.8"),
        (np.array([[0.5, 0.5]] * 6 + [[0.7, 0.5]]), r"init rows must each sum to 1.*row 6"),
        (np.array([[1.5, -0.5]] * 7), r"init has negative entries \(min -0\.5\)"),
        (np.array([[np.nan, 1.0]] * 7), r"init has 7 NaN or infinite entries"),
    ],
)
def test_bad_init(init, match):
    with pytest.raises(ValueError, match=match):
        iterative_ib(GROUPED, 5.0, init=init)


_BAD_SEED = r"random_state must be None, a non-negative int, a numpy SeedSequence or Generator"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_clusters": 0}, r"n_clusters must be an integer >= 1; got 0"),
        ({"n_clusters": -2}, r"n_clusters must be an integer >= 1; got -2"),
        ({"n_clusters": 1.5}, r"n_clusters must be an integer >= 1; got 1\.5"),
        ({"n_clusters": "3"}, r"n_clusters must be an integer >= 1; got '3'"),
        ({"n_clusters": True}, r"n_clusters must be an integer >= 1; got True"),
        ({"n_clusters": 8}, r"n_clusters must be <= \|X\| = 7 \(the number of rows of p_xy\)"),
        ({"n_clusters": 10**8}, r"n_clusters must be <= \|X\| = 7 .*; got 100000000"),
        ({"normalize": "no"}, r"normalize must be True or False; got 'no'"),
        ({"alpha": -0.5}, r"alpha must be a finite number >= 0; got -0\.5"),
        ({"alpha": float("nan")}, r"alpha must be a finite number >= 0; got nan"),
        ({"alpha": "1"}, r"alpha must be a real number; got '1'"),
        ({"alpha": 1.5}, r"alpha must be in \[0, 1\] \(1 = IB, 0 = DIB\); got 1\.5"),
        ({"units": "bit"}, r"units must be 'bits' or 'nats'; got"),
        ({"units": "BITS"}, r"units must be 'bits' or 'nats'; got"),
        ({"units": ""}, r"units must be 'bits' or 'nats'; got"),
        ({"units": None}, r"units must be 'bits' or 'nats'; got"),
        ({"random_state": -1}, r"random_state must be a non-negative int; got -1"),
        ({"random_state": 1.5}, _BAD_SEED + r"; got float"),
        ({"random_state": "seed"}, _BAD_SEED + r"; got str"),
        ({"random_state": np.random.RandomState(0)}, _BAD_SEED + r".*got RandomState"),
        ({"max_iter": 0}, r"max_iter must be an integer >= 1; got 0"),
        ({"max_iter": 10.0}, r"max_iter must be an integer >= 1; got 10\.0"),
        ({"tol": 0.0}, r"tol must be a finite number > 0; got 0\.0"),
        ({"tol": -1e-9}, r"tol must be a finite number > 0"),
    ],
)
def test_bad_keyword_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        iterative_ib(GROUPED, 5.0, **kwargs)


# --------------------------------------------------------------------------- restarts


def test_restarts_keep_the_best_of_the_same_starts():
    # at β = 1e6 clusters merged in the first steps never split again, so single random
    # starts end in different hard clusterings; n_init draws its starts one after
    # another from random_state, as successive calls sharing one Generator do
    p_xy, beta, n = random_joint(0), 1e6, 8
    rng = np.random.default_rng(0)
    singles = [iterative_ib(p_xy, beta, random_state=rng, units="nats") for _ in range(n)]
    best = iterative_ib(p_xy, beta, n_init=n, random_state=0, units="nats")
    objectives = np.array([s.objective for s in singles])
    tie = 1e-6 * abs(objectives.min())  # restarts this close are ties: the first is kept
    assert all(best.objective <= s.objective + 1e-12 * abs(s.objective) for s in singles)
    assert_allclose(best.objective, objectives.min(), rtol=1e-12)
    assert best.n_init_best == np.sum(objectives <= objectives.min() + tie) == 4
    # the restarts help: the first start alone ends in a worse clustering
    assert singles[0].objective > best.objective + 1e4
    assert best.i_ty > singles[0].i_ty and best.n_clusters > singles[0].n_clusters
    assert best.converged and best.n_iter == singles[int(np.argmin(objectives))].n_iter


@pytest.mark.parametrize("alpha", [1.0, 0.0])
def test_one_start_is_the_plain_solver(alpha):
    a = iterative_ib(random_joint(2), 20.0, alpha=alpha, random_state=3)
    b = iterative_ib(random_joint(2), 20.0, alpha=alpha, n_init=1, random_state=3)
    _same(a, b)
    assert a.n_init_best == b.n_init_best == 1


def test_more_restarts_never_do_worse():
    p_xy = random_joint(2)
    objectives = [
        iterative_ib(p_xy, 20.0, n_init=k, random_state=7).objective for k in (1, 2, 4, 8)
    ]
    assert np.all(np.diff(objectives) <= 1e-12)


def test_restarts_agreeing_are_all_counted():
    res = iterative_ib(random_joint(0), 5.0, n_init=6, random_state=0)
    assert res.n_init_best == 6  # a problem whose every start reaches one optimum


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_init": 0}, r"n_init must be an integer >= 1; got 0"),
        ({"n_init": 2.0}, r"n_init must be an integer >= 1; got 2\.0"),
        ({"n_init": True}, r"n_init must be an integer >= 1; got True"),
        ({"n_init": "3"}, r"n_init must be an integer >= 1; got '3'"),
        (
            {"n_init": 2, "init": one_hot(GROUPS)},
            r"n_init must be 1 when init is given \(init is the one start\); got 2",
        ),
    ],
)
def test_bad_n_init(kwargs, match):
    with pytest.raises(ValueError, match=match):
        iterative_ib(GROUPED, 5.0, **kwargs)

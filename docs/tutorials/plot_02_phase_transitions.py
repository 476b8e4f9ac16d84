r"""
Phase transitions on the IB curve and the Gaussian IB's critical β
==================================================================

As β grows, the optimal encoder does not change smoothly: at **critical values** of β a
new cluster splits off (or, for Gaussian variables, a new projection switches on), and
the curve's slope changes there. Both are known in closed form for simple cases:

* for a uniform binary X sent through a binary symmetric channel with flip probability
  ε, the trivial solution stops being optimal at :math:`\beta_c = 1/(1-2\varepsilon)^2`;
* for jointly Gaussian X and Y (Chechik et al. 2005), component i of the optimal
  projection switches on at :math:`\beta_i = 1/(1-\lambda_i)`, where
  :math:`\lambda_i` are the eigenvalues of :math:`\Sigma_{x|y}\Sigma_x^{-1}`.
"""

# %%
# The first transition of a binary symmetric channel
# --------------------------------------------------
# The annealing locates a transition to the resolution of its β grid, so the values
# agree with the closed form to about 1 %.
import matplotlib.pyplot as plt
import numpy as np

from ibkit.ib import gaussian_ib, ib_curve

for eps in (0.1, 0.2, 0.3):
    p_xy = 0.5 * np.array([[1 - eps, eps], [eps, 1 - eps]])
    curve = ib_curve(p_xy, random_state=0)
    print(
        f"eps = {eps}: first critical beta {curve.critical_betas[0]:.3f}, "
        f"closed form {1 / (1 - 2 * eps) ** 2:.3f}"
    )

# %%
# More clusters, more transitions
# -------------------------------
# On a joint with four distinct conditionals the number of clusters grows in steps.
# ``n_clusters`` is per β of the annealing grid; the critical β are marked.
rng = np.random.default_rng(1)
p_xy = rng.dirichlet(np.ones(4), size=8) * rng.dirichlet(np.ones(8))[:, None]
curve = ib_curve(p_xy, random_state=0)
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.5))
ax1.step(curve.betas, curve.n_clusters, where="post")
for b in curve.critical_betas:
    ax1.axvline(b, ls=":", c="grey")
ax1.set(xscale="log", xlabel="β", ylabel="|T| in use", title="clusters split at critical β")
curve.plot(ax=ax2)
fig.tight_layout()
print("critical betas:", np.round(curve.critical_betas, 3))

# %%
# The Gaussian IB: critical β from the eigenvalues
# ------------------------------------------------
# X has three coordinates, each correlated with one coordinate of Y with correlations
# 0.9, 0.6 and 0.3. Then :math:`\lambda_i = 1 - \rho_i^2`, and component i switches on at
# :math:`\beta_i = 1/\rho_i^2`: about 1.23, 2.78 and 11.1.
rho = np.array([0.9, 0.6, 0.3])
cov_x, cov_y, cov_xy = np.eye(3), np.eye(3), np.diag(rho)
betas = np.logspace(0, 2.5, 200)
g = gaussian_ib(cov_x, cov_xy, cov_y, betas)
print("critical betas:", np.round(g.critical_betas, 3), " expected:", np.round(1 / rho**2, 3))
np.testing.assert_allclose(np.sort(g.critical_betas), np.sort(1 / rho**2), rtol=1e-9)

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.5))
ax1.plot(betas, g.i_xt, label="I(X;T)")
ax1.plot(betas, g.i_ty, label="I(T;Y)")
for b in g.critical_betas:
    ax1.axvline(b, ls=":", c="grey")
ax1.set(xscale="log", xlabel="β", ylabel="bits", title="one more component at each β_i")
ax1.legend()
g.plot(ax=ax2)
fig.tight_layout()
plt.show()

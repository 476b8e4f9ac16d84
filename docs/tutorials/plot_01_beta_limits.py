r"""
The two ends of the IB curve: β → 0 and β → ∞
=============================================

The Information Bottleneck trades compression against prediction: an encoder
:math:`p(t|x)` minimises :math:`I(X;T) - \beta\, I(T;Y)`. At its two ends the answer is
known in advance, which makes them the first check of any solver:

* as β → 0 (in fact for every β ≤ 1, since :math:`I(T;Y) \le I(X;T)`) the optimum is a
  **trivial T**, independent of X: :math:`I(X;T) = 0`;
* as β → ∞ the optimum keeps everything X says about Y with as little of X as possible:
  the **minimal sufficient statistic**, which merges exactly the inputs x that share
  the same conditional :math:`p(y|x)`, so :math:`I(T;Y) = I(X;Y)` and
  :math:`I(X;T) = H(T)` is the entropy of those groups.

We check both on a small joint distribution with six inputs x, three labels y, and
two pairs of inputs with identical conditionals.
"""

# %%
# A joint p(x, y) whose minimal sufficient statistic we know
# ----------------------------------------------------------
# Rows 0 and 1 share one conditional p(y|x), as do rows 2 and 3: the minimal sufficient
# statistic has four groups, {0, 1}, {2, 3}, {4} and {5}.
import matplotlib.pyplot as plt
import numpy as np

from ibkit.ib import ib_curve, iterative_ib
from ibkit.measures import entropy, mutual_information

p_y_given_x = np.array(
    [
        [0.8, 0.1, 0.1],
        [0.8, 0.1, 0.1],
        [0.1, 0.8, 0.1],
        [0.1, 0.8, 0.1],
        [0.3, 0.3, 0.4],
        [0.05, 0.15, 0.8],
    ]
)
p_x = np.array([0.1, 0.2, 0.15, 0.15, 0.2, 0.2])
p_xy = p_x[:, None] * p_y_given_x
groups = np.array([0, 0, 1, 1, 2, 3])
p_groups = np.bincount(groups, weights=p_x)
print(f"I(X;Y) = {mutual_information(p_xy):.4f} bits")
print(f"H(X)   = {entropy(p_x):.4f} bits")
print(f"H of the four groups = {entropy(p_groups):.4f} bits")

# %%
# β → 0: a trivial T
# ------------------
# At β = 0.5 (below 1) the solver returns an encoder whose rows are all equal: T says
# nothing about X, so both informations are 0.
low = iterative_ib(p_xy, beta=0.5, random_state=0)
print(f"beta = 0.5: I(X;T) = {low.i_xt:.2e}, I(T;Y) = {low.i_ty:.2e} bits")
print("encoder rows all equal:", np.allclose(low.p_t_given_x, low.p_t_given_x[0]))

# %%
# β → ∞: the minimal sufficient statistic
# ---------------------------------------
# Starting from the identity encoder (T = X, sufficient but not minimal), the solver at
# a very large β merges inputs whose conditionals coincide and nothing else. The result
# keeps all of I(X;Y), and its I(X;T) is the entropy of the four groups, not H(X).
high = iterative_ib(p_xy, beta=1e6, init=np.eye(len(p_xy)))
clusters = high.p_t_given_x.argmax(axis=1)
print(f"beta = 1e6: I(X;T) = {high.i_xt:.4f}, I(T;Y) = {high.i_ty:.4f} bits")
print("cluster of each x:", clusters, "-", high.p_t.size, "clusters")
np.testing.assert_allclose(high.i_ty, mutual_information(p_xy), rtol=1e-9)
np.testing.assert_allclose(high.i_xt, entropy(p_groups), rtol=1e-9)

# %%
# Between the ends: the whole curve
# ---------------------------------
# :func:`~ibkit.ib.ib_curve` anneals β from the trivial solution upwards (and back down
# from the sufficient statistic). Its frontier starts at (0, 0) and ends at
# (H(groups), I(X;Y)); every point in between is an optimal trade-off.
curve = ib_curve(p_xy, max_iter=20000, random_state=0)
ax = curve.plot()
ax.axhline(mutual_information(p_xy), ls=":", c="grey", label="I(X;Y)")
ax.axvline(entropy(p_groups), ls="--", c="grey", label="H(minimal sufficient statistic)")
ax.legend(loc="lower right")
plt.show()

print("largest I(X;T) on the frontier:", round(float(curve.envelope_i_xt.max()), 4))

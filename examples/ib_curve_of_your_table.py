"""The IB curve of your own contingency table.

Run: python examples/ib_curve_of_your_table.py
"""

import numpy as np

from ibkit.ib import agglomerative_ib, ib_curve, iterative_ib

# counts of (x, y) co-occurrences: rows are inputs x, columns are labels y
counts = np.array(
    [
        [30, 2, 1],
        [25, 5, 0],
        [3, 28, 4],
        [1, 30, 6],
        [2, 3, 40],
        [10, 10, 10],
    ]
)

# one beta: a local optimum of I(X;T) - beta * I(T;Y)
res = iterative_ib(counts, beta=5.0, normalize=True, random_state=0)
print(f"beta=5: I(X;T)={res.i_xt:.3f} bits, I(T;Y)={res.i_ty:.3f} bits, |T|={res.n_clusters}")

# the whole curve, by deterministic annealing, with its phase transitions
curve = ib_curve(counts, normalize=True, random_state=0)
print(f"I(X;Y) = {curve.i_xy:.3f} bits; phase transitions near beta = {curve.critical_betas}")
print(curve.to_frame().iloc[:: max(1, len(curve.betas) // 8)].to_string(index=False))

# hard clusterings for every |T|, bottom up
aib = agglomerative_ib(counts, normalize=True)
print("agglomerative IB, |T| -> I(T;Y):", dict(zip(aib.n_clusters, aib.i_ty.round(3), strict=True)))

try:  # a figure, if matplotlib is installed
    import matplotlib

    matplotlib.use("Agg")
    ax = curve.plot()
    ax.figure.savefig("ib_curve.png", dpi=150, bbox_inches="tight")
    print("figure: ib_curve.png")
except ImportError:
    pass

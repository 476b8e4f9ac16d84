r"""
Rate–distortion of a Bernoulli source against the closed form
=============================================================

Rate–distortion theory asks how many bits per symbol a source needs when the
reconstruction may be wrong on average by D. For a Bernoulli(p) source under Hamming
distortion the answer is known exactly (Cover & Thomas, ch. 10):

.. math::

    R(D) = H(p) - H(D) \quad (0 \le D \le \min(p, 1-p)),\qquad R(D) = 0 \text{ beyond},

with H the binary entropy. :func:`ibkit.rd.rd_curve` traces R(D) with the
Blahut–Arimoto algorithm; each of its points comes with a certificate (``gap``) of how
far above the true curve it can be. The IB is the same problem with the distortion
:math:`d(x,t) = \mathrm{KL}[p(y|x)\,\|\,p(y|t)]`.
"""

import matplotlib.pyplot as plt
import numpy as np

from ibkit.rd import blahut_arimoto, rd_curve


def h2(q):
    """Binary entropy in bits (0 at q = 0 or 1)."""
    q = np.clip(q, 1e-300, 1 - 1e-16)
    return -(q * np.log2(q) + (1 - q) * np.log2(1 - q))


p = 0.2
p_x = np.array([1 - p, p])
hamming = 1 - np.eye(2)

# %%
# The whole curve
# ---------------
curve = rd_curve(p_x, hamming)
d = curve.envelope_distortion
truth = np.where(d < p, h2(p) - h2(np.minimum(d, p)), 0.0)
print(f"{len(curve.betas)} slopes; D from {curve.d_min:.3f} to {curve.d_max:.3f}")
error = np.max(np.abs(curve.envelope_rate - truth))
print(f"largest |R - (H(p) - H(D))| on the frontier: {error:.2e} bits")

ax = curve.plot()
grid = np.linspace(0, 0.3, 200)
ax.plot(grid, np.where(grid < p, h2(p) - h2(np.minimum(grid, p)), 0), "k:", label="H(p) − H(D)")
ax.legend()
plt.show()

# %%
# One slope, and its certificate
# ------------------------------
# A single β gives the point where the curve's slope is −β (in nats). For the Bernoulli
# source that is D = 1/(1 + e^β). ``gap`` bounds how far the returned rate can lie above
# R(D). ``rate_at`` reads the frontier between its vertices along straight chords, so it
# lies slightly above the convex R(D) between two computed slopes.
beta = 3.0
res = blahut_arimoto(p_x, hamming, beta=beta)
d_star = 1 / (1 + np.exp(beta))
print(f"beta = {beta}: D = {res.distortion:.6f} (closed form {d_star:.6f})")
print(f"R = {res.rate:.6f} bits, H(p) - H(D) = {h2(p) - h2(d_star):.6f}, gap {res.gap:.1e}")
print(f"rate_at(0.1) = {curve.rate_at(0.1):.6f}, closed form {h2(p) - h2(0.1):.6f}")

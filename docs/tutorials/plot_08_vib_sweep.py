r"""
A Variational IB β sweep on scikit-learn's digits
=================================================

The Variational IB (Alemi et al. 2017) trains a stochastic code
:math:`q(z|x) = \mathcal N(\mu(x), \mathrm{diag}\,\sigma^2(x))` with the loss
:math:`\mathrm{CE} + \beta\,\mathrm{KL}(q(z|x)\,\|\,\mathcal N(0, I))`. The mean KL, the
**rate**, bounds :math:`I(X;Z)` from above; :math:`H(Y) - \mathrm{CE}`, the
**relevance**, bounds :math:`I(Z;Y)` from below. Sweeping β walks a trained model along
the trade-off: a larger β buys a code that keeps less of the input, until it keeps too
little to classify.

:func:`ibkit.nn.vib_sweep` trains one model per β from the same weights, batch order and
noise, so the rows differ by β alone. Here with a small encoder and 15 epochs, to run
in seconds; the guide (:doc:`/guide/vib`) has the 100-epoch numbers.
"""

import matplotlib.pyplot as plt
import numpy as np

from ibkit.datasets import load_digits
from ibkit.nn import torch_threads, vib_sweep

x, y = load_digits()  # 1797 images of 8×8 pixels in [0, 1], 10 classes
betas = [1e-4, 1e-3, 1e-2, 1e-1, 1.0]
with torch_threads(1):
    df = vib_sweep(
        x, y, betas, epochs=15, dim=8, encoder=(64,), lr=3e-3, fgsm_eps=[0.1], random_state=0
    )
columns = ["beta", "rate_bits", "relevance_bits", "test_acc", "fgsm_acc_0.1"]
print(df[columns].round(3).assign(beta=df.beta.map("{:g}".format)).to_string(index=False))

# %%
# The trained models on the information plane
# --------------------------------------------
# Every point lies under :math:`I(Z;Y) \le \min(I(X;Z), H(Y))`: the relevance cannot
# exceed the rate nor the label entropy H(Y) = log₂ 10 bits. Large β pushes the rate
# towards 0 and the relevance with it.
h_y = df.h_y_bits.iloc[0]
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
ax1.plot(df.rate_bits, df.relevance_bits, "o-")
for k, (b, r, i) in enumerate(zip(df.beta, df.rate_bits, df.relevance_bits, strict=True)):
    offset = (-30, -14) if k % 2 else (-30, 8)  # alternate below and above the points
    ax1.annotate(f"β={b:g}", (r, i), textcoords="offset points", xytext=offset, fontsize=8)
grid = np.logspace(-1, np.log10(df.rate_bits.max()), 200)
ax1.plot(grid, np.minimum(grid, h_y), "k:", label="min(rate, H(Y))")
ax1.set(xscale="log", xlabel="rate ≥ I(X;Z), bits", ylabel="relevance ≤ I(Z;Y), bits")
ax1.set_title("VIB models")
ax1.legend(loc="lower right")
ax2.plot(df.beta, df.test_acc, "o-", label="test accuracy")
ax2.plot(df.beta, df["fgsm_acc_0.1"], "s--", label="under FGSM, ε = 0.1")
ax2.set(xscale="log", xlabel="β", ylabel="accuracy", title="what the bottleneck costs")
ax2.legend()
fig.tight_layout()
plt.show()

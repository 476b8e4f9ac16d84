r"""
Why a ReLU network's I(X;T) does not fall
=========================================

Shwartz-Ziv & Tishby (2017) saw the hidden layers of a tanh network first gain, then
lose information about their input: a *compression* phase. Saxe et al. (2018) saw no
such phase with ReLU. Before asking which is right, ask what is being measured.

For a deterministic network on a finite set of **distinct** inputs, a layer
:math:`T = f(X)` is a function of X, so :math:`H(T|X) = 0` and

.. math::

    I(X;T) = H(T) - H(T|X) = H(T),

the entropy of the layer's distinct values. Whenever the layer keeps the inputs apart,
that is :math:`\log_2 n` — 12 bits for the 4096 inputs of the 12-bit task — whatever
the network has learnt. Every other number on an information plane comes from an
estimator that changes the question: a grid (binning) or added noise (KDE). This
tutorial trains a small ReLU network and looks at all three.
"""

# %%
# A small ReLU network on the 12-bit task
# ---------------------------------------
import warnings

import matplotlib.pyplot as plt
import numpy as np
import torch

from ibkit.datasets import tishby_12bit
from ibkit.estimators import SaturationWarning
from ibkit.nn import MLP, InformationPlane, fit, plane_points, torch_threads

# ibkit warns (SaturationWarning) whenever a layer sits at an estimator's ceiling,
# log2 n: below, that is the point being made, so the warning is silenced.
warnings.simplefilter("ignore", SaturationWarning)

task = tishby_12bit()
x, y = task.x.astype(np.float32), task.y
model = MLP(12, activation="relu", seed=0)  # 12-10-7-5-4-3-2
with torch_threads(1):
    history = fit(model, x, y, epochs=300, optimizer="adam", lr=3e-3, random_state=0)
print(f"train accuracy after 300 full-batch epochs: {history.train_acc[-1, 0]:.3f}")


def hidden_layers(model, x):
    """The output of each activation module act1..act5 on the inputs x."""
    out, hooks = {}, []
    for name, module in model.named_children():
        if name.startswith("act"):
            hooks.append(
                module.register_forward_hook(
                    lambda m, i, o, name=name: out.__setitem__(name, o.detach().numpy())
                )
            )
    with torch.no_grad():
        model(torch.as_tensor(x))
    for h in hooks:
        h.remove()
    return out


acts = hidden_layers(model, x)

# %%
# 1. No estimator: I(X;T) = H(T)
# ------------------------------
# The ``plugin`` estimator treats each distinct row of a layer as one symbol, which
# is exact here: it returns H(T), and with it I(T;Y). Every layer, down to the 3-unit
# one, still tells all 4096 inputs apart, so I(X;T) = log2 4096 = 12 bits in each: only
# merging inputs (units stuck at zero on whole groups of them) could lower it.
exact = plane_points(acts, y, x=x, estimators="plugin")
exact["distinct rows"] = [len(np.unique(a, axis=0)) for a in acts.values()]
print(exact[["layer", "width", "distinct rows", "i_xt", "i_ty"]].round(3).to_string(index=False))

# %%
# 2. Binning: I(X;T) climbs to log2 n as the bins shrink
# ------------------------------------------------------
# A grid of bin size b maps the layer to cells; the binned value is H(cells), between 0
# (one cell) and H(T) (a cell per distinct row). As b shrinks every layer climbs to its
# exact H(T), most to 12 bits: the "information" on a binned plane is set by the bin
# size as much as by the network.
sizes = np.logspace(-4, 0.5, 10)
binned = plane_points(
    acts, y, x=x, estimators={f"{b:.2g}": ("binning", {"bin_size": b}) for b in sizes}
)
fig, ax = plt.subplots(figsize=(6, 4))
for layer, rows in binned.groupby("layer"):
    ax.plot(sizes, rows.i_xt, "o-", label=layer)
ax.axhline(np.log2(len(x)), c="k", ls=":", label="log2 n = 12 bits")
ax.set(xscale="log", xlabel="bin size", ylabel="binned I(X;T), bits")
ax.invert_xaxis()
ax.legend(fontsize=8)
ax.set_title("smaller bins, more 'information'")
fig.tight_layout()

# %%
# 3. Over training: the binned value does not fall for ReLU
# ---------------------------------------------------------
# ``fit`` calls ``on_epoch`` once before training (epoch 0) and after each of the 300
# epochs, hence 301 epochs for the log-spaced schedule.
# Record the plane while training a fresh network, with the unbounded grid of
# Saxe et al. (bin size 0.07). ReLU activations are not squashed into a bounded range,
# so as the weights grow the layer's values spread over more bins: binned I(X;T) rises
# or stays, and no compression appears. (A tanh layer saturates at ±1, its values
# crowd into the end bins, and *binned* I(X;T) falls: compression seen through the
# grid.)
fresh = MLP(12, activation="relu", seed=1)
plane = InformationPlane(
    fresh, x, y, estimators={"bin0.07": ("binning", {"bin_size": 0.07})},
    schedule="log", n_epochs=301, n_points=15, output=None,
)  # fmt: skip
with plane, torch_threads(1):
    fit(fresh, x, y, epochs=300, optimizer="adam", lr=3e-3, random_state=0,
        on_epoch=lambda epoch: plane.record(epoch))  # fmt: skip
fig, ax = plt.subplots(figsize=(6, 4))
for layer, rows in plane.results.groupby("layer"):
    ax.plot(rows.epoch + 1, rows.i_xt, "o-", ms=3, label=layer)
ax.set(xscale="log", xlabel="epoch + 1", ylabel="I(X;T), bins of 0.07", title="ReLU, binned")
ax.legend(fontsize=8)
fig.tight_layout()

# %%
# 4. What noise changes
# ---------------------
# Saxe et al. measured a *noisy* layer :math:`\tilde T = T + \mathcal N(0, \sigma^2 I)`
# instead. Now :math:`H(\tilde T|X) > 0` and :math:`I(X;\tilde T)` is finite and
# meaningful — but it is the information of a channel of our choosing: it falls as σ²
# grows, and for a fixed σ² it changes when the layer is merely rescaled, which is
# what growing weights do. ``kde`` gives the Kolchinsky–Tracey bounds on it.
layer = acts["act2"]
variances = [1e-4, 1e-3, 1e-2, 1e-1, 1.0]
rows = []
for scale in (1.0, 3.0):
    for v in variances:
        pts = plane_points(
            {"act2": scale * layer}, y, x=x, estimators={"kde": ("kde", {"noise_variance": v})}
        )
        rows.append((scale, v, pts.i_xt_lower[0], pts.i_xt_upper[0]))
fig, ax = plt.subplots(figsize=(6, 4))
for scale in (1.0, 3.0):
    lo = [r[2] for r in rows if r[0] == scale]
    hi = [r[3] for r in rows if r[0] == scale]
    ax.fill_between(variances, lo, hi, alpha=0.4, label=f"layer × {scale:g}")
ax.set(xscale="log", xlabel="noise variance σ²", ylabel="I(X;T̃) bounds, bits", title="act2 + noise")
ax.legend()
fig.tight_layout()
plt.show()

for scale, v, lo, hi in rows:
    print(f"layer x {scale:g}, sigma^2 = {v:g}: I(X;T~) in [{lo:.2f}, {hi:.2f}] bits")

# %%
# So a ReLU layer's I(X;T) "does not fall" because, measured exactly, it is H(T) and
# stays near log2 n while the layer keeps the inputs apart; binned or noised, the
# answer depends on the bin size or σ² and on the layer's scale. That is why ibkit
# reports several estimators side by side, each measured against ground truth
# (:doc:`/guide/information-plane`).

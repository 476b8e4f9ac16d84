"""A synthetic information-plane table for the figure and report tests."""

import pandas as pd

LAYERS = ("act1", "act2", "output")


def plane_table(activations=("tanh",), estimators=("binning",), seeds=(0, 1), epochs=(0, 10, 100)):
    """One row per activation, estimator, seed, epoch and layer of :data:`LAYERS`:
    I(X;T) = 12 − 3k − 0.01·epoch + 0.1·seed bits for layer k, I(T;Y) = 0.5 + 0.001·epoch
    + 0.01·seed, no point at its ceiling."""
    rows = [
        {
            "activation": act,
            "estimator": est,
            "seed": seed,
            "epoch": epoch,
            "layer": layer,
            "layer_index": k,
            "is_output": layer == "output",
            "i_xt": 12.0 - 3 * k - 0.01 * epoch + 0.1 * seed,
            "i_ty": 0.5 + 0.001 * epoch + 0.01 * seed,
            "units": "bits",
            "at_ceiling": False,
        }
        for act in activations
        for est in estimators
        for seed in seeds
        for epoch in epochs
        for k, layer in enumerate(LAYERS)
    ]
    return pd.DataFrame(rows)

"""Tests of the compression metrics on hand-built information-plane tables.

Confidence intervals are checked against closed-form Student t quantiles: with
ν = 1 the t distribution is Cauchy, F⁻¹(p) = tan(π(p − ½)); with ν = 2,
F⁻¹(p) = (2p − 1)·√(2 / (4p(1 − p))).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ibkit.study.metrics import compression_metrics, summarize_compression

EPOCHS = (0, 10, 20, 30, 40)


def trajectory(i_xt, *, seed=0, layer=1, activation="tanh", estimator="binning", **extra):
    """Rows of one trajectory, i_xt given per epoch of EPOCHS (or of ``epochs``)."""
    epochs = extra.pop("epochs", EPOCHS[: len(i_xt)])
    i_ty = extra.pop("i_ty", np.linspace(0.1, 0.9, len(i_xt)))
    return pd.DataFrame(
        {
            "run": extra.pop("run", "r"),
            "seed": seed,
            "activation": activation,
            "estimator": estimator,
            "layer": layer,
            "epoch": epochs,
            "i_xt": i_xt,
            "i_ty": i_ty,
            "units": extra.pop("units", "bits"),
        }
    )


def metrics_row(table):
    """The one row of compression_metrics for a table of one trajectory."""
    m = compression_metrics(table)
    assert len(m) == 1
    return m.iloc[0]


def test_rise_then_fall():
    row = metrics_row(trajectory([1.0, 3.0, 5.0, 4.5, 4.0]))
    assert row["peak_i_xt"] == 5.0
    assert row["peak_epoch"] == 20
    assert row["final_i_xt"] == 4.0
    assert row["drop_bits"] == pytest.approx(1.0)
    assert row["drop_relative"] == pytest.approx(0.2)
    assert row["final_i_ty"] == pytest.approx(0.9)
    assert row["units"] == "bits"


def test_monotone_increasing_has_no_drop():
    row = metrics_row(trajectory([0.5, 1.0, 2.0, 2.5, 3.0]))
    assert row["drop_bits"] == 0.0
    assert row["drop_relative"] == 0.0
    assert row["peak_epoch"] == 40
    assert row["final_i_xt"] == row["peak_i_xt"] == 3.0


def test_tied_peak_takes_first_epoch_and_rows_are_sorted_by_epoch():
    # rows given out of order; the tie at epochs 10 and 30 resolves to 10, the final
    # value is the one at epoch 40 even though its row comes first
    table = trajectory([2.0, 6.0, 6.0, 1.0, 4.0], epochs=[40, 30, 10, 0, 20])
    row = metrics_row(table)
    assert row["peak_epoch"] == 10
    assert row["final_i_xt"] == 2.0
    assert row["drop_bits"] == 4.0


def test_zero_peak_has_zero_relative_drop():
    row = metrics_row(trajectory([0.0, 0.0, 0.0]))
    assert row["drop_bits"] == 0.0
    assert row["drop_relative"] == 0.0
    assert row["peak_epoch"] == 0


def test_nats_are_converted_to_bits():
    bits = trajectory([1.0, 4.0, 3.0], i_ty=[0.2, 0.4, 0.5])
    nats = trajectory(
        list(np.log(2) * np.array([1.0, 4.0, 3.0])), i_ty=[0.2 * np.log(2)] * 3, units="nats"
    )
    for table, final_i_ty in ((bits, 0.5), (nats, 0.2)):
        row = metrics_row(table)
        assert row["peak_i_xt"] == pytest.approx(4.0)
        assert row["drop_bits"] == pytest.approx(1.0)
        assert row["final_i_ty"] == pytest.approx(final_i_ty)
        assert row["units"] == "bits"


def test_one_row_per_trajectory_with_keys_and_columns():
    table = pd.concat(
        [
            trajectory([1.0, 2.0, 1.5], seed=s, layer=layer, activation=act, estimator=est)
            for s in (0, 1)
            for layer in (1, 2)
            for act in ("tanh", "relu")
            for est in ("binning", "kde_upper")
        ]
    )
    m = compression_metrics(table.sample(frac=1.0, random_state=0))
    assert list(m.columns) == [
        "run",
        "activation",
        "estimator",
        "layer",
        "seed",
        "peak_i_xt",
        "peak_epoch",
        "final_i_xt",
        "drop_bits",
        "drop_relative",
        "final_i_ty",
        "units",
    ]
    assert len(m) == 16
    assert not m.duplicated(["activation", "estimator", "layer", "seed"]).any()
    np.testing.assert_allclose(m["drop_bits"], 0.5)
    np.testing.assert_allclose(m["drop_relative"], 0.25)


def test_runs_are_kept_apart():
    table = pd.concat([trajectory([1.0, 3.0], run="a"), trajectory([5.0, 1.0], run="b")])
    m = compression_metrics(table)
    assert m["run"].tolist() == ["a", "b"]
    assert m["drop_bits"].tolist() == [0.0, 4.0]


def seeds_with_drops(drops, **keys):
    """One trajectory per seed, rising to 5 bits and dropping by ``drops[seed]``."""
    return pd.concat([trajectory([1.0, 5.0, 5.0 - d], seed=s, **keys) for s, d in enumerate(drops)])


def test_summary_matches_hand_computed_t_interval():
    drops = np.array([1.0, 2.0, 4.0])
    s = summarize_compression(compression_metrics(seeds_with_drops(drops)))
    assert len(s) == 1
    row = s.iloc[0]
    p = 0.975
    t_2 = (2 * p - 1) * np.sqrt(2 / (4 * p * (1 - p)))  # 4.3027, the ν = 2 quantile
    half = t_2 * np.std(drops, ddof=1) / np.sqrt(3)
    assert row["n_seeds"] == 3
    assert row["drop_bits"] == pytest.approx(7 / 3)
    assert row["drop_bits_low"] == pytest.approx(7 / 3 - half)
    assert row["drop_bits_high"] == pytest.approx(7 / 3 + half)
    assert not row["compresses"]  # 7/3 − 3.79 < 0
    assert row["final_i_xt"] == pytest.approx(5 - 7 / 3)
    # the peak is 5 bits in every seed: a zero-width interval
    assert row["peak_i_xt_low"] == row["peak_i_xt_high"] == 5.0
    assert s.attrs["confidence"] == 0.95


def test_summary_confidence_level_two_seeds():
    drops = np.array([1.0, 3.0])
    s = summarize_compression(compression_metrics(seeds_with_drops(drops)), confidence=0.9)
    t_1 = np.tan(np.pi * (0.95 - 0.5))  # 6.3138, Cauchy quantile
    half = t_1 * np.std(drops, ddof=1) / np.sqrt(2)
    assert s.loc[0, "drop_bits_low"] == pytest.approx(2.0 - half)
    assert s.loc[0, "drop_bits_high"] == pytest.approx(2.0 + half)


def test_summary_compresses_when_interval_above_zero():
    table = pd.concat(
        [
            seeds_with_drops([1.0, 1.2, 1.1], activation="tanh"),
            seeds_with_drops([0.0, 0.0, 0.3], activation="relu"),
        ]
    )
    s = summarize_compression(compression_metrics(table)).set_index("activation")
    assert s.loc["tanh", "compresses"]
    assert s.loc["tanh", "drop_bits_low"] > 0
    assert not s.loc["relu", "compresses"]


def test_summary_one_seed_gives_nan_interval():
    s = summarize_compression(compression_metrics(seeds_with_drops([2.0])))
    row = s.iloc[0]
    assert row["n_seeds"] == 1
    assert row["drop_bits"] == 2.0
    assert np.isnan(row["drop_bits_low"]) and np.isnan(row["drop_bits_high"])
    assert not row["compresses"]


def test_summary_columns_and_groups():
    table = pd.concat(
        [
            seeds_with_drops([1.0, 2.0], layer=layer, estimator=est)
            for layer in (2, 1)
            for est in ("kde_upper", "binning")
        ]
    )
    s = summarize_compression(compression_metrics(table))
    metrics = [
        "peak_i_xt",
        "peak_epoch",
        "final_i_xt",
        "drop_bits",
        "drop_relative",
        "final_i_ty",
    ]
    expected = ["activation", "estimator", "layer", "n_seeds"]
    for m in metrics:
        expected += [m, f"{m}_low", f"{m}_high"]
    assert list(s.columns) == [*expected, "compresses", "units"]
    assert list(zip(s["estimator"], s["layer"], strict=True)) == [
        ("binning", 1),
        ("binning", 2),
        ("kde_upper", 1),
        ("kde_upper", 2),
    ]
    assert (s["n_seeds"] == 2).all()
    assert s["compresses"].dtype == bool


def test_compression_metrics_rejects_bad_tables():
    good = trajectory([1.0, 2.0, 1.5])
    with pytest.raises(ValueError, match=r"lacks the columns \['seed', 'units'\]"):
        compression_metrics(good.drop(columns=["seed", "units"]))
    with pytest.raises(ValueError, match="no rows"):
        compression_metrics(good.iloc[:0])
    with pytest.raises(ValueError, match="needs a pandas DataFrame"):
        compression_metrics(good.to_dict())
    with pytest.raises(ValueError, match=r"found \['millibits'\]"):
        compression_metrics(good.assign(units="millibits"))
    with pytest.raises(ValueError, match="must be finite"):
        compression_metrics(good.assign(i_xt=[1.0, np.inf, 2.0]))
    with pytest.raises(ValueError, match=r"columns \['i_ty'\] have missing values"):
        compression_metrics(good.assign(i_ty=[1.0, np.nan, 2.0]))
    with pytest.raises(ValueError, match="must be numbers"):
        compression_metrics(good.assign(i_xt=["a", "b", "c"]))
    with pytest.raises(ValueError, match="epoch must be numeric"):
        compression_metrics(good.assign(epoch=["0", "10", "20"]))
    with pytest.raises(ValueError, match="2 rows repeat an epoch"):
        compression_metrics(pd.concat([good, good.iloc[:2]]))


def test_summarize_rejects_bad_tables():
    m = compression_metrics(seeds_with_drops([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"lacks the columns \['drop_bits'\]"):
        summarize_compression(m.drop(columns="drop_bits"))
    with pytest.raises(ValueError, match="no rows"):
        summarize_compression(m.iloc[:0])
    for bad in (0, 1, 1.5, True, "0.9"):
        with pytest.raises(ValueError, match="confidence must be"):
            summarize_compression(m, confidence=bad)
    with pytest.raises(ValueError, match="a seed appears twice"):
        summarize_compression(pd.concat([m, m.assign(run="other")]))
    with pytest.raises(ValueError, match="mix units"):
        summarize_compression(m.assign(units=["bits", "nats"]))

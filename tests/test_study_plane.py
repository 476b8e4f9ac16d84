"""Tests of the information-plane study runner on a tiny configuration."""

import json
import re
import warnings

import numpy as np
import pandas as pd
import pytest

from ibkit.datasets import tishby_12bit
from ibkit.estimators import CEILING_TOLERANCE_BITS, SaturationWarning
from ibkit.measures import mutual_information
from ibkit.study.plane_study import PlaneStudy, run_plane_study

TINY = PlaneStudy(
    activations=("tanh", "relu"),
    seeds=(0, 1),
    epochs=12,
    n_points=4,
    hidden=(6, 3),
    estimators=("bin30[-1:1]", "bin0.07", "kde0.1"),
)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return run_plane_study(TINY, tmp_path_factory.mktemp("study"))


def test_tables_cover_every_activation_seed_epoch_layer_and_estimator(tiny):
    res = tiny.results
    # 2 activations x 2 seeds x 4 epochs x 3 layers (2 hidden + output) x 3 estimators
    assert len(res) == 2 * 2 * 4 * 3 * 3
    epochs = sorted(res["epoch"].unique())  # log-spaced, with 0 and the last
    assert len(epochs) == 4 and epochs[0] == 0 and epochs[-1] == 12
    assert set(res["activation"]) == {"tanh", "relu"}
    assert res.groupby("layer")["is_output"].first().to_dict() == {
        "act1": False,
        "act2": False,
        "output": True,
    }
    # training metrics of the same epoch and seed are joined to every row
    assert res["train_acc"].between(0, 1).all() and res["test_loss"].notna().all()
    # the compression table has one row per activation x estimator x layer x seed
    assert len(tiny.compression) == 2 * 3 * 3 * 2
    assert len(tiny.summary) == 2 * 3 * 3


def test_every_point_respects_the_information_bounds(tiny):
    i_xy = mutual_information(tishby_12bit().p_xy)  # 0.99916 bits
    res = tiny.results
    assert (res["i_ty"] <= i_xy + 1e-9).all()
    assert (res["i_xt"] <= 12 + 1e-9).all() and (res["i_xt"] >= -1e-9).all()
    # the exact IB curve drawn as the bound is the one of the task
    assert tiny.bound.i_xy == pytest.approx(i_xy)


def test_files_are_written_and_a_rerun_resumes_without_recomputing(tiny):
    out = tiny.out_dir
    for name in ("results", "history", "compression", "compression_summary", "gradients"):
        assert (out / f"{name}.csv").exists()
    assert json.loads((out / "config.json").read_text()) == TINY.to_dict()
    before = pd.read_csv(out / "plane_tanh.csv")
    again = run_plane_study(TINY, out)
    pd.testing.assert_frame_equal(before, pd.read_csv(out / "plane_tanh.csv"))
    pd.testing.assert_frame_equal(
        tiny.results.reset_index(drop=True), again.results.reset_index(drop=True)
    )


def test_an_interrupted_study_resumes_to_the_same_tables(tmp_path, tiny):
    out = tmp_path / "cut"
    study = PlaneStudy(
        **{**TINY.to_dict(), "activations": ("tanh",), "estimators": ("bin30[-1:1]",)}
    )
    run_plane_study(study, out)
    full = pd.read_csv(out / "plane_tanh.csv")
    # simulate a crash after the first two recorded epochs: the table is cut and the
    # training checkpoint is rolled back to the start
    full[full["epoch"] <= 2].to_csv(out / "plane_tanh.csv", index=False)
    (out / "checkpoint_tanh.pt").unlink()
    (out / "history_tanh.csv").unlink()
    run_plane_study(study, out)
    resumed = pd.read_csv(out / "plane_tanh.csv")
    pd.testing.assert_frame_equal(full, resumed)


def test_a_folder_with_another_configuration_is_refused(tiny):
    other = PlaneStudy(**{**TINY.to_dict(), "epochs": 13})
    with pytest.raises(ValueError, match="another configuration"):
        run_plane_study(other, tiny.out_dir)


def test_figures_have_one_panel_per_activation_and_estimator(tiny):
    figs = tiny.figures()
    assert set(figs) == {"planes", "trajectories", "gradient_snr", "training"}
    titled = [ax for ax in figs["planes"].axes if ax.get_title()]
    assert len(titled) == 2 * 3
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"estimators": ("bin99",)}, "unknown estimator"),
        ({"seeds": (1, 1)}, "distinct"),
        ({"activations": ()}, "non-empty"),
        ({"epochs": 0}, "epochs"),
        ({"activations": ("tanh", "tanhh")}, r"unknown activation\(s\) \['tanhh'\]; choose from"),
        ({"activations": ("relu", "relu")}, "activations must be distinct"),
        ({"seeds": (0, -1)}, "seeds must be an integer >= 0; got -1"),
        ({"seeds": "01"}, "seeds must be a non-empty sequence"),
        ({"hidden": (4, 0)}, "hidden must be an integer >= 1; got 0"),
        ({"n_points": 1}, "n_points must be an integer >= 2"),
        ({"train_size": 1.0}, "train_size must be a fraction strictly between 0 and 1"),
        ({"split_seed": -1}, "split_seed must be an integer >= 0"),
        ({"optimizer": "rmsprop"}, r"optimizer must be one of \['sgd', 'adam'\]"),
        ({"lr": 0.0}, "lr must be a finite number > 0"),
        ({"batch_size": 0}, "batch_size must be an integer >= 1"),
        ({"label_noise": 0.7}, r"label_noise must be a probability in \[0, 0.5\]"),
        ({"track_gradients": "yes"}, "track_gradients must be True or False"),
        ({"probe_size": 1}, "probe_size must be an integer >= 2; got 1"),
        ({"probe_size": 2.5}, "probe_size must be an integer"),
        ({"estimators": ("kde_rel3",)}, r"unknown estimator label\(s\) \['kde_rel3'\]"),
    ],
)
def test_bad_configuration(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PlaneStudy(**kwargs)


def test_nothing_is_written_before_every_option_is_checked(tmp_path):
    out = tmp_path / "study"
    with pytest.raises(ValueError, match="n_jobs must be an integer >= 1"):
        run_plane_study(TINY, out, n_jobs=0)
    with pytest.raises(ValueError, match="say must be None or a callable"):
        run_plane_study(TINY, out, say="loud")
    assert not out.exists()


@pytest.mark.parametrize("content", [b'{"epochs": 12', b"\xff\xfe\x00", b""])
def test_a_corrupt_configuration_file_is_one_clear_error(tmp_path, content):
    config = tmp_path / "config.json"
    config.write_bytes(content)
    with pytest.raises(ValueError) as info:
        run_plane_study(TINY, tmp_path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{config} is not a study configuration (")
    assert message.endswith("delete it to start a new study in that folder, or choose another one")
    assert config.read_bytes() == content


def _saturated(record):
    """(activation, layer, estimator) of each saturation warning in ``record``."""
    pattern = (
        r"layer '(.+?)' \(\d+ units, activation '(.+?)'\) sits at the ceiling of estimator '(.+?)'"
    )
    found = []
    for w in record:
        if issubclass(w.category, SaturationWarning):
            layer, activation, estimator = re.match(pattern, str(w.message)).groups()
            found.append((activation, layer, estimator))
    return found


def test_a_resumed_study_warns_once_per_layer_at_the_ceiling_from_its_table(tiny):
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        again = run_plane_study(TINY, tiny.out_dir)  # nothing is recorded again
    res = again.results
    at = res[res["at_ceiling"]]
    expected = set(zip(at["activation"], at["layer"], at["estimator"], strict=True))
    assert ("tanh", "act1", "bin30[-1:1]") in expected  # 6 tanh units, 30 bins: 12 bits
    found = _saturated(record)
    assert len(found) == len(set(found)) and set(found) == expected
    # a binned point is at the ceiling when its I(X;T) is within 0.01 bits of log2 4096
    binned = res[res["estimator"].str.startswith("bin")]
    assert (binned["at_ceiling"] == (binned["i_xt"] >= 12 - CEILING_TOLERANCE_BITS)).all()


def test_the_tables_depend_on_the_seeds_alone_not_on_the_processes(tmp_path):
    # wide layers and the Monte Carlo estimator: float32 sums that more BLAS threads split
    study = PlaneStudy(
        **{
            **TINY.to_dict(),
            "hidden": (10, 7, 5),
            "estimators": ("noisy_mc0.1", "bin30[-1:1]"),
            "epochs": 3,
        }
    )
    records = {}
    for run, n_jobs in (("serial", 1), ("parallel", 2)):
        with warnings.catch_warnings(record=True) as records[run]:
            warnings.simplefilter("always")
            run_plane_study(study, tmp_path / run, n_jobs=n_jobs)
    for name in ("plane_tanh.csv", "plane_relu.csv", "results.csv"):
        serial, parallel = (tmp_path / run / name for run in ("serial", "parallel"))
        assert parallel.read_bytes() == serial.read_bytes(), name
    # the saturation warnings come from the final table, whatever process recorded it
    assert _saturated(records["serial"]) and (
        _saturated(records["parallel"]) == _saturated(records["serial"])
    )


# --------------------------------------------------------------------------- data and models

TINY_ONE = PlaneStudy(
    activations=("relu",), seeds=(0,), epochs=2, n_points=2, hidden=(3,), estimators=("bin30",)
)

DIGITS_CNN = PlaneStudy(
    activations=("relu",),
    seeds=(0, 1),
    epochs=2,
    n_points=2,
    estimators=("bin30",),
    track_gradients=False,
    data="digits",
    model="cnn",
)


def test_a_cnn_on_digits_records_its_conv_layers_seed_after_seed(tmp_path):
    pytest.importorskip("sklearn")
    res = run_plane_study(DIGITS_CNN, tmp_path)
    assert res.bound is None  # the exact IB curve is the 12-bit task's only
    r = res.results
    assert sorted(r["layer"].unique()) == ["act1", "act2", "act3", "output"]
    assert r.groupby("layer")["width"].first()["act1"] == 16 * 8 * 8
    assert set(r["seed"]) == {0, 1} and sorted(r["epoch"].unique()) == [0, 2]
    assert (r["i_xt"] <= np.log2(1797) + 1e-6).all() and (r["i_ty"] <= np.log2(10) + 1e-6).all()
    assert r["train_acc"].notna().all()  # the history of every seed is joined
    assert {p.name for p in tmp_path.glob("checkpoint_*")} == {
        "checkpoint_relu_seed0.pt",
        "checkpoint_relu_seed1.pt",
    }
    again = run_plane_study(DIGITS_CNN, tmp_path)  # resumed: the same tables
    pd.testing.assert_frame_equal(again.results, r)


def test_a_user_factory_and_a_table_file(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((120, 3))
    np.savez(tmp_path / "t.npz", x=x, y=(x[:, 0] > 0).astype(int) + (x[:, 1] > 0))
    study = PlaneStudy(
        activations=("tanh",),
        seeds=(4,),
        epochs=3,
        n_points=2,
        estimators=("bin30",),
        data=str(tmp_path / "t.npz"),
        model="plane_models:small_net",
    )
    res = run_plane_study(study, tmp_path / "out")
    assert sorted(res.results["layer"].unique()) == ["2", "output"]  # the factory's Tanh
    assert set(res.results["seed"]) == {4} and set(res.history["seed"]) == {4}
    assert res.results.groupby("layer")["width"].first().to_dict() == {"2": 5, "output": 3}
    again = run_plane_study(study, tmp_path / "again")  # the seed fixes the run
    pd.testing.assert_frame_equal(again.history, res.history)


def test_a_folder_of_a_study_made_before_data_and_model_resumes(tmp_path):
    out = tmp_path / "old"
    run_plane_study(TINY_ONE, out)
    config = json.loads((out / "config.json").read_text())
    del config["data"], config["model"]
    (out / "config.json").write_text(json.dumps(config))
    assert PlaneStudy.from_dict(config) == TINY_ONE
    assert len(run_plane_study(TINY_ONE, out).results) > 0


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"data": "cifar"}, "data must be '12bit', 'digits', 'mnist:DIR' or a .npz/.csv file"),
        ({"data": "nofile.npz"}, "data='nofile.npz' is not an existing file"),
        ({"data": "mnist:/no/such"}, "needs train-images-idx3-ubyte"),
        ({"data": "digits", "label_noise": 0.1}, "label_noise applies to data='12bit' only"),
        ({"model": "vgg"}, "model must be 'mlp', 'cnn' or 'module:factory'"),
        ({"model": "cnn"}, "model='cnn' needs images: data='digits' or 'mnist:DIR'"),
        ({"model": "no_such_module:f"}, "cannot import 'no_such_module'"),
        ({"model": "plane_models:nope"}, "has no function 'nope'"),
    ],
)
def test_bad_data_and_models_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        PlaneStudy(**kwargs)


def test_the_default_estimators_are_the_six_of_the_reference_study():
    assert PlaneStudy().estimators == (
        "bin30[-1:1]", "bin0.07", "bin30", "kde1e-3", "kde0.1", "noisy_mc0.1"
    )  # fmt: skip


def test_a_probe_subsample_caps_every_layer_at_its_own_log2_n(tmp_path):
    # 64 of the 4096 inputs: the 10 tanh units in 30 bins tell all 64 apart, so I(X;T) of
    # the first layer is exactly log2 64 = 6 bits, where the full probe would give ~12
    settings = {"activations": ("tanh",), "hidden": (10,), "probe_size": 64}
    study = PlaneStudy.from_dict({**TINY_ONE.to_dict(), **settings})
    r = run_plane_study(study, tmp_path).results
    first = r[r["layer"] == r["layer"].iloc[0]]
    np.testing.assert_allclose(first["i_xt"], 6.0, atol=1e-9)
    assert (r["i_xt"] <= 6.0 + 1e-9).all() and first["at_ceiling"].all()
    assert json.loads((tmp_path / "config.json").read_text())["probe_size"] == 64


def test_wide_layer_estimators_record_a_cnn_on_digits(tmp_path):
    pytest.importorskip("sklearn")
    settings = {"seeds": (0,), "estimators": ("kde_rel30", "renyi"), "probe_size": 200}
    study = PlaneStudy.from_dict({**DIGITS_CNN.to_dict(), **settings})
    r = run_plane_study(study, tmp_path).results
    assert set(r["estimator"]) == {"kde_rel30", "renyi"}
    assert (r["i_xt"] < np.log2(200) - 0.1).all()  # neither sits at the probe's ceiling
    assert not r["at_ceiling"].any()


def test_a_factory_that_returns_no_module_is_named(tmp_path):
    study = PlaneStudy(**{**TINY_ONE.to_dict(), "model": "plane_models:not_a_module"})
    with pytest.raises(ValueError, match="returned NoneType, not a torch.nn.Module"):
        run_plane_study(study, tmp_path)

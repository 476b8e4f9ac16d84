"""Tests of the ``ibkit`` command, through typer's CliRunner and as a subprocess.

Truth comes from outside the command: I(X;Y) and H(Y) of the input tables computed
here with numpy, the closed-form MI of correlated Gaussians, file signatures of the
figures, and the tables the command writes read back with pandas.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("matplotlib")
pytest.importorskip("typer")

from typer.testing import CliRunner  # noqa: E402

from ibkit._io import read_joint  # noqa: E402
from ibkit._validation import InvalidParameterError  # noqa: E402
from ibkit.cli import app  # noqa: E402
from ibkit.estimators import available_methods  # noqa: E402

#: A noisy joint of counts (Y not a function of X).
COUNTS = np.array([[30.0, 5.0], [5.0, 30.0], [15.0, 15.0]])


def mi_and_hy(counts: np.ndarray) -> tuple[float, float]:
    """I(X;Y) and H(Y) in bits, straight from the definition."""
    p = counts / counts.sum()
    px, py = p.sum(1, keepdims=True), p.sum(0, keepdims=True)
    nz = p > 0
    mi = float(np.sum(p[nz] * np.log2(p[nz] / (px @ py)[nz])))
    return mi, float(-np.sum(py * np.log2(py)))


def invoke(*args: str):
    return CliRunner().invoke(app, [str(a) for a in args])


def run_json(*args: str) -> dict:
    result = invoke(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture
def samples_csv(tmp_path):
    """Correlated Gaussians (rho = 0.8 between a and b) and a text label column."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal(2000)
    b = 0.8 * a + 0.6 * rng.standard_normal(2000)
    label = np.where(a > 0, "pos", "neg")
    path = tmp_path / "samples.csv"
    pd.DataFrame({"a": a, "b": b, "noise": rng.standard_normal(2000), "label": label}).to_csv(
        path, index=False
    )
    return path


# --------------------------------------------------------------------------- curve


@pytest.mark.parametrize("layout", ["plain", "header_index", "pandas", "npz", "npz_one"])
def test_joint_tables_are_read_with_or_without_header_and_index(tmp_path, layout):
    path = tmp_path / ("t.npz" if layout.startswith("npz") else "t.csv")
    if layout == "plain":
        np.savetxt(path, COUNTS, delimiter=",")
    elif layout == "header_index":
        path.write_text("x,y=0,y=1\nfirst,30,5\nsecond,5,30\nthird,15,15\n")
    elif layout == "pandas":  # blank top-left cell, numeric header and index
        pd.DataFrame(COUNTS).to_csv(path)
    elif layout == "npz":
        np.savez(path, counts=COUNTS, other=np.ones(3))
    else:
        np.savez(path, COUNTS)
    np.testing.assert_array_equal(read_joint(path), COUNTS)


def test_curve_writes_figures_and_table(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("x,y=0,y=1\nfirst,30,5\nsecond,5,30\nthird,15,15\n")
    out = tmp_path / "out"
    summary = run_json("curve", path, "--out", out)

    mi, hy = mi_and_hy(COUNTS)
    assert summary["i_xy"] == pytest.approx(mi, rel=1e-9)
    assert summary["h_y"] == pytest.approx(hy, rel=1e-9)
    assert summary["units"] == "bits"
    assert len(summary["critical_betas"]) >= 1 and all(b > 1 for b in summary["critical_betas"])
    assert (out / "ib_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "ib_curve.pdf").read_bytes()[:5] == b"%PDF-"
    assert summary["files"] == [str(out / f"ib_curve.{e}") for e in ("png", "pdf", "csv")]
    table = pd.read_csv(out / "ib_curve.csv")
    assert len(table) == summary["n_solutions"]
    assert summary["n_unconverged"] == (~table["converged"]).sum()
    assert (table["i_ty"] <= mi + 1e-9).all() and (table["i_ty"] <= table["i_xt"] + 1e-9).all()


def test_curve_of_paired_labels_is_the_empirical_joint(tmp_path):
    pairs = [("a", "u")] * 3 + [("a", "v")] + [("b", "v")] * 2 + [("c", "u")] * 2
    path = tmp_path / "labels.csv"
    pd.DataFrame(pairs, columns=["x", "y"]).to_csv(path, index=False)
    summary = run_json("curve", path, "--labels", "--units", "nats", "--out", tmp_path)
    mi_bits, _ = mi_and_hy(np.array([[3.0, 1.0], [0.0, 2.0], [2.0, 0.0]]))
    assert summary["units"] == "nats"
    assert summary["i_xy"] == pytest.approx(mi_bits * np.log(2), rel=1e-9)


def write_pairs(path, pairs) -> None:
    """A pairs file: a header ``x,y``, then one (x label, y label) sample per row."""
    pd.DataFrame(pairs, columns=["x", "y"]).to_csv(path, index=False)


#: Numeric (x label, y label) pairs and their counts, tallied by hand.
PAIR_COUNTS = {(0, 0): 6, (0, 1): 2, (1, 1): 5, (2, 0): 3, (2, 1): 4}
PAIRS_JOINT = np.array([[6.0, 2.0], [0.0, 5.0], [3.0, 4.0]])


def test_curve_refuses_numeric_pairs_without_labels(tmp_path):
    path = tmp_path / "pairs.csv"
    write_pairs(path, [pair for pair, n in PAIR_COUNTS.items() for _ in range(n)])
    refused = invoke("curve", path, "--out", tmp_path / "o")
    assert refused.exit_code == 2 and refused.stdout == ""
    assert refused.stderr.count("\n") == 1
    assert f"{path}: looks like (x label, y label) pairs" in refused.stderr
    assert "20 rows but only 5 distinct" in refused.stderr and "--labels" in refused.stderr
    assert "--table" in refused.stderr
    counted = run_json("curve", path, "--labels", "--out", tmp_path / "o")
    assert counted["i_xy"] == pytest.approx(mi_and_hy(PAIRS_JOINT)[0], rel=1e-9)
    forced = run_json("curve", path, "--table", "--out", tmp_path / "o")  # a 20 x 2 table
    rows = np.array([pair for pair, n in PAIR_COUNTS.items() for _ in range(n)], float)
    assert forced["i_xy"] == pytest.approx(mi_and_hy(rows)[0], rel=1e-9)


def test_two_column_joint_tables_are_still_tables(tmp_path):
    from ibkit.datasets import tishby_12bit

    p_xy = tishby_12bit().p_xy  # 4096 x 2 probabilities: many equal rows, not whole numbers
    path = tmp_path / "joint.csv"
    np.savetxt(path, p_xy, delimiter=",", header="y0,y1", comments="")
    np.testing.assert_allclose(read_joint(path), p_xy, rtol=1e-15)
    counts = tmp_path / "counts.csv"  # whole numbers, but rows that do not repeat
    np.savetxt(counts, COUNTS, delimiter=",", fmt="%d")
    np.testing.assert_array_equal(read_joint(counts), COUNTS)


def test_curve_of_counts_where_y_is_a_function_of_x_needs_table(tmp_path):
    from ibkit.datasets import tishby_12bit
    from ibkit.measures import entropy

    counts = (tishby_12bit().p_xy > 0).astype(int)  # one sample per x: rows 1,0 and 0,1
    path = tmp_path / "counts.csv"
    np.savetxt(path, counts, delimiter=",", fmt="%d")
    refused = invoke("curve", path, "--out", tmp_path / "o")
    assert refused.exit_code == 2 and refused.stdout == ""
    assert "y is a function of x" in refused.stderr
    assert "Pass --table (labels=False) to read it as a joint table" in refused.stderr
    summary = run_json("curve", path, "--table", "--out", tmp_path / "o")
    h_y = entropy(counts.sum(axis=0) / counts.sum())
    np.testing.assert_allclose(summary["i_xy"], h_y, rtol=1e-12)
    np.testing.assert_allclose(summary["h_y"], h_y, rtol=1e-12)


def test_curve_refuses_a_typo_in_the_first_row_of_a_table_without_header(tmp_path):
    path = tmp_path / "jt.csv"
    path.write_text("0.1,0.2O,0.05\n0.2,0.1,0.05\n0.1,0.1,0.1\n")
    result = invoke("curve", path, "--out", tmp_path / "o")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith(
        f"ibkit curve: error: {path}: line 1, column 2: '0.2O' is not a number"
    )


@pytest.mark.parametrize("folder", ["m[/out]", "a[red]b", "[bold]x[/bold]"])
def test_paths_with_brackets_are_printed_as_they_are(tmp_path, folder):
    path = tmp_path / "t.csv"
    np.savetxt(path, COUNTS, delimiter=",")
    out = tmp_path / folder
    result = invoke("curve", path, "--out", out)
    assert result.exit_code == 0, result.output
    assert str(out / "ib_curve.png") in result.stdout
    assert (out / "ib_curve.csv").exists()


def test_curve_prints_a_summary_table(tmp_path):
    path = tmp_path / "t.csv"
    np.savetxt(path, COUNTS, delimiter=",")
    result = invoke("curve", path, "--out", tmp_path)
    assert result.exit_code == 0
    assert "IB curve of t.csv (3 x 2)" in result.stdout
    assert f"{mi_and_hy(COUNTS)[0]:.4g}" in result.stdout


# --------------------------------------------------------------------------- estimate


def test_estimate_two_sets_of_columns(samples_csv, tmp_path):
    result = run_json(
        "estimate", samples_csv, "--x", "a", "--y", "b,noise", "--method", "gaussian",
        "--out", tmp_path,
    )  # fmt: skip
    truth = -0.5 * np.log2(1 - 0.8**2)
    assert result["value"] == pytest.approx(truth, abs=0.06)
    assert result["n_samples"] == 2000 and result["method"] == "gaussian"
    assert json.loads((tmp_path / "estimate.json").read_text())["value"] == result["value"]


def test_estimate_passes_parameters_and_reads_text_labels(samples_csv):
    result = run_json(
        "estimate", samples_csv, "--x", "0", "--y", "label", "--method", "ksg",
        "--param", "k=5", "--units", "nats",
    )  # fmt: skip
    assert result["params"]["k"] == 5 and result["units"] == "nats"
    # Y is the sign of X: I(X;Y) = H(Y) = log 2 nats for a balanced sign
    assert result["value"] == pytest.approx(np.log(2), abs=0.1)


def test_estimate_refuses_a_numeric_column_with_one_typo(tmp_path):
    rng = np.random.default_rng(1)
    a = rng.standard_normal(824)
    b = 0.89 * a + np.sqrt(1 - 0.89**2) * rng.standard_normal(824)
    cells = [f"{v:.6f}" for v in b]
    cells[101] = "0.1O3"  # the letter O for a zero: line 103 of the file
    path = tmp_path / "typo.csv"
    path.write_text("a,b\n" + "".join(f"{u:.6f},{v}\n" for u, v in zip(a, cells, strict=True)))
    result = invoke("estimate", path, "--x", "a", "--y", "b", "--method", "gaussian")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == (
        f"ibkit estimate: error: {path}: column 'b', line 103: '0.1O3' is not a number, "
        "though 823 of the 824 values are; correct it, or read the column as class labels "
        "(y_labels=True, --y-labels)\n"
    )
    cells[101] = "0.103"
    path.write_text("a,b\n" + "".join(f"{u:.6f},{v}\n" for u, v in zip(a, cells, strict=True)))
    fixed = run_json("estimate", path, "--x", "a", "--y", "b", "--method", "gaussian")
    assert fixed["value"] == pytest.approx(-0.5 * np.log2(1 - 0.89**2), abs=0.08)


def test_estimate_y_labels_reads_mostly_numeric_labels_as_classes(tmp_path):
    # Y is a class; one class is named by text, the others by numbers
    y = np.repeat(["1", "2", "none"], [10, 6, 4])
    x = np.repeat([0.0, 1.0, 2.0], [10, 6, 4])
    path = tmp_path / "classes.csv"
    pd.DataFrame({"x": x, "y": y}).to_csv(path, index=False)
    refused = invoke("estimate", path, "--x", "x", "--y", "y", "--method", "plugin")
    assert refused.exit_code == 2 and "line 18: 'none' is not a number" in refused.stderr
    result = run_json("estimate", path, "--x", "x", "--y", "y", "--method", "plugin", "--y-labels")
    p = np.array([10, 6, 4]) / 20  # X determines Y: I(X;Y) = H(Y)
    assert result["value"] == pytest.approx(-np.sum(p * np.log2(p)), rel=1e-9)


def test_quiet_prints_nothing(samples_csv):
    result = invoke("estimate", samples_csv, "--x", "a", "--y", "b", "--quiet")
    assert result.exit_code == 0 and result.stdout == "" and result.stderr == ""
    shown = invoke("estimate", samples_csv, "--x", "a", "--y", "b")
    assert "ksg estimate of I(a; b)" in shown.stdout


PNG = b"\x89PNG\r\n\x1a\n"
PDF = b"%PDF"


# --------------------------------------------------------------------------- plane


def test_plane_writes_figures_summary_and_resumes(tmp_path):
    out = tmp_path / "plane"
    args = ["plane", "--seeds", "2", "--epochs", "20", "--points", "5", "--estimators",
            "bin0.07", "--out", out]  # fmt: skip
    summary = run_json(*args, "--seed", "3")
    rows = pd.DataFrame(summary["summary"])
    assert set(rows["activation"]) == {"tanh", "relu"} and set(rows["n_seeds"]) == {2}
    assert len(rows) == 2 * 6  # five hidden layers and the output, per activation
    assert (rows["peak_i_xt"] <= 12 + 1e-9).all()  # H(X) = 12 bits: 4096 equiprobable inputs
    assert (rows["drop_bits"] >= 0).all()
    assert (rows["drop_bits_low"] <= rows["drop_bits"]).all()
    assert (rows["drop_bits"] <= rows["drop_bits_high"]).all()
    results = pd.read_csv(out / "results.csv")
    assert set(results["seed"]) == {3, 4} and results["epoch"].max() == 20
    assert (results["i_ty"] <= 1 + 1e-9).all()  # H(Y) = 1 bit
    for name in ("planes", "gradient_snr", "training"):
        assert (out / f"{name}.png").read_bytes().startswith(PNG)
        assert (out / f"{name}.pdf").read_bytes().startswith(PDF)
    again = run_json(*args, "--seed", "3")  # the same study: resumed, nothing retrained
    assert again["summary"] == summary["summary"]
    assert pd.read_csv(out / "results.csv").equals(results)


def test_a_saturated_layer_is_one_warning_line(tmp_path):
    # after two epochs the first tanh layers tell the 4096 inputs apart at bin size 0.07
    result = invoke("plane", "--activations", "tanh", "--seeds", "1", "--epochs", "2",
                    "--points", "2", "--estimators", "bin0.07", "--out", tmp_path)  # fmt: skip
    assert result.exit_code == 0, result.output
    warned = [line for line in result.stderr.splitlines() if "warning:" in line]
    assert warned and all(line.startswith("ibkit plane: warning: layer '") for line in warned)
    assert any("'act1'" in line and "sits at the ceiling of estimator 'bin0.07'" in line
               for line in warned)  # fmt: skip
    assert "Warning" not in result.stderr  # no Python warning format, no source lines


def test_plane_prints_the_compression_table(tmp_path):
    result = invoke("plane", "--activations", "relu", "--seeds", "2", "--epochs", "5",
                    "--points", "2", "--estimators", "bin0.07", "--out", tmp_path)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "compression of I(X;T)" in result.stdout and "drop_bits" in result.stdout
    assert "relu" in result.stdout and "tanh" not in result.stdout


def test_plane_on_digits_with_the_cnn_and_with_a_factory(tmp_path):
    pytest.importorskip("sklearn")
    common = ["--activations", "relu", "--seeds", "1", "--epochs", "2", "--points", "2",
              "--estimators", "bin30"]  # fmt: skip
    cnn = run_json("plane", *common, "--data", "digits", "--model", "cnn", "--out", tmp_path / "c")
    assert cnn["config"]["data"] == "digits" and cnn["config"]["model"] == "cnn"
    layers = {row["layer"] for row in cnn["summary"]}
    assert layers == {"act1", "act2", "act3", "output"}
    own = run_json("plane", *common, "--model", "plane_models:small_net", "--out", tmp_path / "f")
    assert {row["layer"] for row in own["summary"]} == {"2", "output"}  # 12-bit task, its Tanh
    probed = run_json("plane", *common, "--probe-size", "50", "--out", tmp_path / "p")
    assert probed["config"]["probe_size"] == 50
    assert all(row["peak_i_xt"] <= np.log2(50) + 1e-9 for row in probed["summary"])


# --------------------------------------------------------------------------- vib-sweep


@pytest.fixture
def labelled_csv(tmp_path):
    """Four features in [0, 1]; the label is whether the first is above one half."""
    rng = np.random.default_rng(0)
    x = rng.random((200, 4))
    path = tmp_path / "labelled.csv"
    frame = pd.DataFrame(x, columns=["a", "b", "c", "d"]).assign(y=(x[:, 0] > 0.5).astype(int))
    frame.to_csv(path, index=False)
    return path, frame["y"].to_numpy()


def test_vib_sweep_on_a_table(labelled_csv, tmp_path):
    path, y = labelled_csv
    out = tmp_path / "vib"
    summary = run_json("vib-sweep", "--table", path, "--betas", "1e-3,1", "--epochs", "2",
                       "--dim", "2", "--fgsm", "0.1", "--out", out)  # fmt: skip
    table = pd.read_csv(out / "vib_sweep.csv")
    assert table["beta"].tolist() == [1e-3, 1.0]
    p = np.bincount(y) / len(y)
    np.testing.assert_allclose(table["h_y_bits"], -np.sum(p * np.log2(p)), rtol=0.05)
    assert (table["relevance_bits"] <= table["h_y_bits"] + 1e-9).all()
    assert "fgsm_acc_0.1" in table and len(summary["table"]) == 2
    assert (out / "vib_sweep.png").read_bytes().startswith(PNG)
    assert (out / "vib_sweep.pdf").read_bytes().startswith(PDF)


def test_vib_sweep_prints_the_table_for_digits(tmp_path):
    result = invoke("vib-sweep", "--betas", "0.01", "--epochs", "1", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    assert "1797 samples" in result.stdout and "test_acc" in result.stdout


# --------------------------------------------------------------------------- sweep


def write_config(tmp_path, grid: str, name: str = "s.toml") -> str:
    path = tmp_path / name
    path.write_text(
        f'job = "estimate"\nseed = 1\n[grid]\n{grid}\n[fixed]\ndata = "gaussian"\nn_samples = 300\n'
    )
    return path


def test_sweep_writes_the_table_and_resumes(tmp_path):
    config = write_config(tmp_path, 'rho = [0.3, 0.9]\nmethod = ["gaussian", "ksg"]')
    out = tmp_path / "out"
    summary = run_json("sweep", config, "--out", out, "--backend", "processes", "--n-jobs", "2")
    assert summary["jobs"] == 4 and summary["failed"] == 0 and summary["errors"] == []
    table = pd.read_csv(out / "s.csv")
    assert table["method"].tolist() == ["gaussian", "ksg"] * 2
    before = (out / "s.csv").read_bytes()
    again = run_json("sweep", config, "--out", out)  # serial this time, all jobs resumed
    assert again["rows"] == 4 and (out / "s.csv").read_bytes() == before
    other_seed = run_json("sweep", config, "--out", tmp_path / "o2", "--seed", "2")
    assert other_seed["failed"] == 0
    assert (tmp_path / "o2" / "s.csv").read_bytes() != before


def failing_job(*, random_state, value):
    """A job named by import path in a config; it fails when it runs for value 1."""
    if value == 1:
        raise InvalidParameterError(f"value {value} is refused when the job runs")
    return [{"twice": 2 * value}]


def test_sweep_reports_failed_jobs_with_status_1(tmp_path):
    config = tmp_path / "fail.toml"
    config.write_text(f'job = "{__name__}:failing_job"\n[grid]\nvalue = [0, 1, 2]\n')
    result = invoke("sweep", config, "--out", tmp_path, "--json")
    assert result.exit_code == 1
    summary = json.loads(result.stdout)
    assert summary["failed"] == 1 and summary["errors"][0]["job_index"] == 1
    assert "value 1 is refused when the job runs" in summary["errors"][0]["error"]


def interrupting_job(*, random_state, value):
    """A job named by import path in a config; the third one acts as Ctrl-C."""
    if value == 2:
        raise KeyboardInterrupt
    return [{"twice": 2 * value}]


def test_sweep_interrupted_says_how_to_resume(tmp_path):
    config = tmp_path / "stop.toml"
    config.write_text(f'job = "{__name__}:interrupting_job"\n[grid]\nvalue = [0, 1, 2, 3]\n')
    result = invoke("sweep", config, "--out", tmp_path)
    assert result.exit_code == 130
    assert result.stderr == (
        f"ibkit sweep: interrupted; run it again to resume from {tmp_path / 'stop.csv'}\n"
    )
    assert pd.read_csv(tmp_path / "stop.csv")["twice"].tolist() == [0, 2]


# --------------------------------------------------------------------------- user errors


@pytest.fixture
def bad_inputs(tmp_path):
    (tmp_path / "bad.csv").write_text("x,y0,y1\na,3,oops\n")
    (tmp_path / "three.csv").write_text("a,b,c\n1,2,3\n")
    (tmp_path / "ok.csv").write_text("a,b\n1,2\n3,4\n5,7\n")
    (tmp_path / "table.txt").write_text("1,2\n")
    (tmp_path / "broken.npz").write_bytes(b"PK\x03\x04 not a zip archive")
    with open(tmp_path / "single.npz", "wb") as handle:  # np.save: one array, no archive
        np.save(handle, COUNTS)
    (tmp_path / "xbad.csv").write_text("a,b\n1,2\nabc,3\n")
    (tmp_path / "ybad.csv").write_text("a,b\n1,2\n3,4\n5,x\n")
    (tmp_path / "folder.csv").mkdir()
    (tmp_path / "empty.npz").write_bytes(b"")
    with zipfile.ZipFile(tmp_path / "text.npz", "w") as archive:
        archive.writestr("a.txt", "not an array")
    np.savez(tmp_path / "complex.npz", p_xy=COUNTS + 1j)
    np.savez(tmp_path / "cx.npz", x=np.arange(3.0) * 1j, y=np.arange(3.0))
    np.savez_compressed(tmp_path / "corrupt.npz", x=np.arange(5000.0))
    data = bytearray((tmp_path / "corrupt.npz").read_bytes())
    data[200:400] = bytes(b ^ 0x5A for b in data[200:400])  # inside the deflated stream
    (tmp_path / "corrupt.npz").write_bytes(bytes(data))
    (tmp_path / "bad.toml").write_text('job = "estimate"\n[grid]\nrho = 0.5\n')
    (tmp_path / "nojob.toml").write_text('job = "nope"\n[grid]\nrho = [0.5]\n')
    return tmp_path


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["curve", "{d}/missing.csv"], "ibkit curve: error: {d}/missing.csv: no such file"),
        (["curve", "{d}/bad.csv"], "line 2, column 3: 'oops' is not a number"),
        (["curve", "{d}/table.txt"], "expected a .csv or .npz file"),
        (["curve", "{d}/three.csv", "--labels"], "expected two columns (x label, y label)"),
        (["curve", "{d}/single.npz"], "not a readable .npz archive of arrays (it holds a single"),
        (["estimate", "{d}/broken.npz", "--x", "a", "--y", "b"], "not a readable .npz archive"),
        (["curve", "{d}/folder.csv"], "ibkit curve: error: {d}/folder.csv: is a directory"),
        (["curve", "{d}/empty.npz"], "{d}/empty.npz: not a readable .npz archive of arrays"),
        (["curve", "{d}/corrupt.npz"], "{d}/corrupt.npz: not a readable .npz archive"),
        (["curve", "{d}/text.npz"], "{d}/text.npz: holds 'a.txt', which is not a .npy array"),
        (["curve", "{d}/complex.npz"], "{d}/complex.npz: array 'p_xy' is complex"),
        (["estimate", "{d}/cx.npz", "--x", "x", "--y", "y"], "{d}/cx.npz: array 'x' is complex"),
        (["estimate", "{d}/folder.csv", "--x", "a", "--y", "b"], "{d}/folder.csv: is a directory"),
        (["estimate", "{d}/text.npz", "--x", "a", "--y", "b"], "{d}/text.npz: holds 'a.txt'"),
        (["estimate", "{d}/xbad.csv", "--x", "a", "--y", "b"],
         "{d}/xbad.csv: column 'a', line 3: 'abc' is not a number"),
        (["estimate", "{d}/ybad.csv", "--x", "a", "--y", "b"],
         "{d}/ybad.csv: column 'b', line 4: 'x' is not a number, though 2 of the 3 values are"),
        (["estimate", "{d}/ok.csv", "--x", "a", "--y", "a,b", "--y-labels"],
         "{d}/ok.csv: y_labels (--y-labels) reads one 1-D y column"),
        (["estimate", "{d}/ok.csv", "--x", "a", "--y", "b", "--param", "k=0"],
         "k must be an integer >= 1; got 0"),
        (["curve", "{d}/ok.csv", "--units", "dits"], "units must be 'bits' or 'nats'"),
        (["curve", "{d}/ok.csv", "--alpha", "x"], "Invalid value for '--alpha'"),
        (["curve"], "ibkit curve: error: Missing argument 'file'"),
        (["estimate", "{d}/ok.csv", "--x", "a", "--y", "b", "--method", "magic"],
         "unknown method 'magic'; choose one of: binning"),
        (["estimate", "{d}/ok.csv", "--x", "a", "--y", "b", "--param", "kk=3"],
         "method 'ksg' has no parameter 'kk'; it accepts: algorithm, jitter, k"),
        (["estimate", "{d}/ok.csv", "--x", "a", "--y", "b", "--param", "k"],
         "--param expects NAME=VALUE"),
        (["estimate", "{d}/ok.csv", "--x", "a", "--y", "zz"], "no column 'zz'; columns are: a, b"),
        (["estimate", "{d}/ok.csv", "--x", "a,", "--y", "b"], "comma-separated column names"),
        (["sweep", "{d}/bad.toml"], "grid parameter 'rho' must be a non-empty list"),
        (["sweep", "{d}/nojob.toml"], "unknown job 'nope'; choose one of: curve, estimate"),
        (["sweep", "{d}/bad.toml", "--backend", "spark"], "'rho' must be a non-empty list"),
        (["sweep", "{d}/missing.toml"], "ibkit sweep: error: {d}/missing.toml: no such file"),
        (["frobnicate"], "ibkit: error: No such command 'frobnicate'"),
        (["plane", "--estimators", "bin0.07,magic"], "unknown estimator label(s) ['magic']"),
        (["plane", "--hidden", "10,x"], "--hidden expects comma-separated ints; 'x' is not one"),
        (["plane", "--activations", "tanh,"], "--activations expects a comma-separated list"),
        (["plane", "--seeds", "0"], "Invalid value for '--seeds'"),
        (["plane", "--data", "cifar"], "data must be '12bit', 'digits', 'mnist:DIR' or a"),
        (["plane", "--data", "mnist:{d}"], "needs train-images-idx3-ubyte (or "),
        (["plane", "--model", "resnet"], "model must be 'mlp', 'cnn' or 'module:factory'"),
        (["plane", "--model", "cnn"], "model='cnn' needs images: data='digits' or 'mnist:DIR'"),
        (["plane", "--model", "no_such_module:f"], "cannot import 'no_such_module'"),
        (["vib-sweep", "--data", "mnist"], "--data knows only 'digits'; got 'mnist'"),
        (["vib-sweep", "--data", "digits", "--table", "{d}/ok.csv"],
         "give one of --data, --mnist and --table; got --data and --table"),
        (["vib-sweep", "--betas", "1,-1"], "betas[1] must be a finite number >= 0; got -1"),
        (["vib-sweep", "--betas", "1,x"], "--betas expects comma-separated floats"),
        (["vib-sweep", "--mnist", "{d}/img", "{d}/lab"], "{d}/img"),
        (["vib-sweep", "--table", "{d}/three.csv"], "no column 'y'"),
    ],
)  # fmt: skip
def test_user_errors_give_one_line_and_status_2(bad_inputs, args, expected):
    result = invoke(*(a.format(d=bad_inputs) for a in args))
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("ibkit") and ": error: " in lines[0]
    assert expected.format(d=bad_inputs) in lines[0]


@pytest.mark.parametrize("method", sorted(available_methods()))
def test_estimate_refuses_an_unknown_parameter_for_every_method(bad_inputs, method):
    result = invoke("estimate", bad_inputs / "ok.csv", "--x", "a", "--y", "b",
                    "--method", method, "--param", "bogus=1")  # fmt: skip
    assert result.exit_code == 2 and result.stdout == ""
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith("ibkit estimate: error: ") and "bogus" in result.stderr


def make_hostile_pickle(path: Path, marker: Path, protocol: int = 2) -> None:
    """A pickle that, if loaded unsafely, would create the folder ``marker`` (code run)."""

    class Payload:
        def __reduce__(self):
            return (os.mkdir, (str(marker),))

    path.write_bytes(pickle.dumps(Payload(), protocol=protocol))


def make_truncated_checkpoint(path: Path) -> None:
    import torch

    torch.save({"epoch": 3, "weights": torch.zeros(100)}, path)
    path.write_bytes(path.read_bytes()[:200])


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("empty", "empty file"),
        ("truncated", "truncated, or not written by torch.save"),
        ("hostile", "it holds objects other than tensors and numbers (posix.mkdir), refused "
                    "for safety"),
        ("hostile-protocol-5", "it holds objects other than tensors and numbers, refused for "
                               "safety"),
    ],
)  # fmt: skip
def test_plane_with_a_broken_checkpoint_gives_one_line(tmp_path, kind, reason):
    """Run as a subprocess: what the user sees on stderr, warnings included, is one line."""
    pytest.importorskip("torch")
    checkpoint = tmp_path / "checkpoint_relu.pt"
    marker = tmp_path / "code-was-run"
    if kind == "empty":
        checkpoint.write_bytes(b"")
    elif kind == "truncated":
        make_truncated_checkpoint(checkpoint)
    else:
        make_hostile_pickle(checkpoint, marker, protocol=5 if kind.endswith("5") else 2)
    proc = run_module("plane", "--activations", "relu", "--seeds", "1", "--epochs", "2",
                      "--points", "2", "--estimators", "bin0.07", "--out", tmp_path,
                      "--quiet", cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    assert proc.stderr == (
        f"ibkit plane: error: checkpoint {checkpoint} cannot be used ({reason}); delete it "
        "to train from the start, or pass another checkpoint path\n"
    )
    assert not marker.exists()


def test_divergence_is_one_line_with_status_1(tmp_path):
    pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.random((40, 3)) * 1e30  # inputs so large that the training loss overflows
    path = tmp_path / "huge.csv"
    pd.DataFrame(x, columns=["a", "b", "c"]).assign(y=np.arange(40) % 2).to_csv(path, index=False)
    result = invoke("vib-sweep", "--table", path, "--betas", "1", "--epochs", "2", "--dim", "2",
                    "--out", tmp_path, "--quiet")  # fmt: skip
    assert result.exit_code == 1 and result.stdout == ""
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith("ibkit vib-sweep: error: training diverged")


def test_a_key_error_is_a_bug_not_a_user_error(tmp_path, monkeypatch):
    import ibkit.ib

    def broken_curve(*args, **kwargs):
        return {}["i_xy"]

    monkeypatch.setattr(ibkit.ib, "ib_curve", broken_curve)
    path = tmp_path / "t.csv"
    np.savetxt(path, COUNTS, delimiter=",")
    result = invoke("curve", path, "--out", tmp_path)
    assert isinstance(result.exception, KeyError) and "error:" not in result.stderr


def test_version_and_help():
    from ibkit import __version__

    assert invoke("--version").stdout == f"ibkit {__version__}\n"
    shown = invoke("--help").stdout
    commands = ("curve", "estimate", "demo", "sweep", "plane", "vib-sweep")
    assert all(command in shown for command in commands)


def test_sweep_rejects_a_bad_backend(tmp_path):
    config = write_config(tmp_path, 'rho = [0.5]\nmethod = ["gaussian"]')
    result = invoke("sweep", config, "--backend", "spark", "--out", tmp_path)
    assert result.exit_code == 2
    assert "backend must be one of serial, processes, dask; got 'spark'" in result.stderr


# --------------------------------------------------------------------------- subprocess


def run_module(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ibkit.cli", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


def test_module_entry_point_runs_a_command(samples_csv):
    proc = run_module(
        "estimate", samples_csv.name, "--x", "a", "--y", "b", "--method", "gaussian", "--json",
        cwd=samples_csv.parent,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["value"] == pytest.approx(-0.5 * np.log2(1 - 0.8**2), abs=0.06)


def test_module_entry_point_user_error_has_no_traceback(tmp_path):
    (tmp_path / "bad.csv").write_text("1,2\n3,-\n")
    proc = run_module("curve", "bad.csv", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr == "ibkit curve: error: bad.csv: line 2, column 2: '-' is not a number\n"
    assert proc.stdout == ""

"""Tests of :mod:`ibkit.sweep`: grids, per-job seeds, backends, streaming and resuming.

Truth: the per-job seeds are recomputed here from ``numpy.random.SeedSequence``; the
backends must give byte-identical CSV tables (in-process, loky processes, and a real
``dask.distributed.LocalCluster`` of worker processes); job executions are counted by
the marker files the jobs write.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("joblib")
distributed = pytest.importorskip("dask.distributed")

from ibkit.sweep import (  # noqa: E402
    available_jobs,
    expand_grid,
    load_config,
    resolve_job,
    run_sweep,
)

# --------------------------------------------------------------------------- jobs


def draw_job(*, random_state, n):
    """Rows that expose the job's random stream (two rows, to check their order)."""
    return [{"row": r, "draw": random_state.random(), "n2": n * n} for r in range(2)]


def marker_job(*, random_state, value, folder, stop_at=-1, fail_at=-1):
    """Counts its executions with files; stops (like Ctrl-C) or fails on request."""
    folder = Path(folder)
    if value == stop_at and (folder / "STOP").exists():
        raise KeyboardInterrupt
    (folder / f"run-{value}-{uuid.uuid4().hex}").touch()
    if value == fail_at:
        raise ValueError(f"value {value} is unlucky")
    return [{"square": value * value, "draw": random_state.random()}]


def runs(folder: Path) -> dict[int, int]:
    """How many times each value's job ran."""
    counts: dict[int, int] = {}
    for marker in folder.glob("run-*"):
        value = int(marker.name.split("-")[1])
        counts[value] = counts.get(value, 0) + 1
    return counts


@pytest.fixture
def samples_csv(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(400)
    path = tmp_path / "s.csv"
    pd.DataFrame({"a": x, "b": x + 0.5 * rng.standard_normal(400)}).to_csv(path, index=False)
    return path


@pytest.fixture
def labelled_npz(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.random((150, 3))
    path = tmp_path / "data.npz"
    np.savez(path, x=x, y=(x[:, 0] > 0.5).astype(int))
    return path


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
    ) as local:
        yield local


# --------------------------------------------------------------------------- grids


def test_expand_grid_is_the_cartesian_product_last_fastest():
    grid = expand_grid({"a": [1, 2], "b": ["x", "y", "z"]}, {"c": 0})
    assert [(p["a"], p["b"]) for p in grid] == [
        (1, "x"),
        (1, "y"),
        (1, "z"),
        (2, "x"),
        (2, "y"),
        (2, "z"),
    ]
    assert all(p["c"] == 0 for p in grid)


@pytest.mark.parametrize(
    ("grid", "fixed", "match"),
    [
        ({"a": 3}, None, "'a' must be a non-empty list"),
        ({"a": []}, None, "'a' must be a non-empty list"),
        ({"a": "xyz"}, None, "'a' must be a non-empty list"),
        ({"a": [1]}, {"a": 2}, "both in the grid and fixed"),
    ],
)
def test_expand_grid_rejects_bad_grids(grid, fixed, match):
    with pytest.raises(ValueError, match=match):
        expand_grid(grid, fixed)


# --------------------------------------------------------------------------- seeds, order


def test_each_job_gets_its_child_seed_and_rows_keep_grid_order():
    grid = expand_grid({"n": [3, 1, 2]})
    table = run_sweep(draw_job, grid, seed=7)
    children = np.random.SeedSequence(7).spawn(3)
    expected = [np.random.default_rng(c).random() for c in children]
    assert table["job_index"].tolist() == [0, 0, 1, 1, 2, 2]
    assert table["row"].tolist() == [0, 1] * 3
    assert table["n"].tolist() == [3, 3, 1, 1, 2, 2]
    assert table["n2"].tolist() == [9, 9, 1, 1, 4, 4]
    np.testing.assert_array_equal(table["draw"].to_numpy()[::2], expected)
    assert (table["status"] == "ok").all() and table["error"].isna().all()
    assert table.columns.tolist() == [
        "job_index", "n", "row", "draw", "n2", "status", "error", "job_key"
    ]  # fmt: skip


def test_backends_give_identical_tables(tmp_path, cluster):
    """In-process, loky processes, a LocalCluster started by run_sweep and a scheduler.

    The neural job comes first: in a fresh worker it is the one that loads torch, whose
    thread count changes its float sums (the job pins it once loaded).
    """
    grids = [{"method": ["infonce"], "rho": [0.8], "steps": [30]},
             {"method": ["ksg", "gaussian"], "rho": [0.2, 0.8]}]  # fmt: skip
    grid = expand_grid(grids, {"n_samples": 200, "data": "gaussian", "dim": 1})
    runs_ = {
        "serial": {"backend": "serial"},
        "processes": {"backend": "processes", "n_jobs": 2},
        "dask-local": {"backend": "dask", "n_jobs": 2},
        "dask-scheduler": {"backend": "dask", "scheduler": cluster.scheduler_address},
    }
    tables = {
        name: run_sweep("estimate", grid, seed=3, path=tmp_path / f"{name}.csv", **kw)
        for name, kw in runs_.items()
    }
    texts = {name: (tmp_path / f"{name}.csv").read_bytes() for name in runs_}
    assert len(set(texts.values())) == 1, "CSV tables differ between backends"
    for table in tables.values():
        pd.testing.assert_frame_equal(table, tables["serial"])
    serial = tables["serial"]
    assert (serial["status"] == "ok").all(), serial["error"].dropna().tolist()
    assert len(serial) == 5
    # the ground truth of the task is attached, and the converged estimates are near it
    truth = -0.5 * np.log2(1 - serial["rho"] ** 2)
    np.testing.assert_allclose(serial["true_mi"], truth)
    assert (abs(serial["value"] - truth)[1:] < 0.35).all()


def test_jobs_defined_outside_ibkit_run_on_dask_workers(cluster):
    """(On loky processes too: see the failing-job test.)"""
    grid = expand_grid({"n": [1, 2, 3]})
    serial = run_sweep(draw_job, grid, seed=1)
    dask = run_sweep(draw_job, grid, seed=1, backend="dask", scheduler=cluster.scheduler_address)
    pd.testing.assert_frame_equal(dask, serial)


# --------------------------------------------------------------------------- streaming


def test_rows_stream_to_the_csv_as_jobs_finish(tmp_path):
    path = tmp_path / "t.csv"
    seen = []

    def progress(done, total):
        seen.append((done, total, pd.read_csv(path)["job_index"].nunique()))

    run_sweep(draw_job, expand_grid({"n": [1, 2, 3]}), path=path, progress=progress)
    assert seen == [(1, 3, 1), (2, 3, 2), (3, 3, 3)]


def test_resume_after_an_interruption_skips_finished_jobs(tmp_path):
    folder = tmp_path / "markers"
    folder.mkdir()
    grid = expand_grid({"value": list(range(6))}, {"folder": str(folder), "stop_at": 3})
    path = tmp_path / "sweep.csv"
    (folder / "STOP").touch()
    with pytest.raises(KeyboardInterrupt):
        run_sweep(marker_job, grid, seed=5, path=path)
    assert runs(folder) == {0: 1, 1: 1, 2: 1}
    assert pd.read_csv(path)["job_index"].tolist() == [0, 1, 2]

    (folder / "STOP").unlink()
    calls = []
    resumed = run_sweep(marker_job, grid, seed=5, path=path, progress=lambda d, t: calls.append(d))
    assert runs(folder) == {v: 1 for v in range(6)}  # nothing ran twice
    assert calls == [3, 4, 5, 6]
    fresh = run_sweep(marker_job, grid, seed=5, path=tmp_path / "fresh.csv")
    assert path.read_bytes() == (tmp_path / "fresh.csv").read_bytes()
    pd.testing.assert_frame_equal(resumed, fresh)

    # the same path with another seed is another sweep: everything runs again
    run_sweep(marker_job, grid, seed=6, path=path)
    assert runs(folder) == {v: 3 for v in range(6)}


def test_resume_ignores_a_torn_last_line(tmp_path):
    folder = tmp_path / "markers"
    folder.mkdir()
    grid = expand_grid({"value": [0, 1, 2]}, {"folder": str(folder)})
    path = tmp_path / "sweep.csv"
    run_sweep(marker_job, grid, path=path)
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:-1]) + lines[-1][: len(lines[-1]) // 2])  # killed mid-write
    table = run_sweep(marker_job, grid, path=path)
    assert runs(folder) == {0: 1, 1: 1, 2: 2}
    assert table["job_index"].tolist() == [0, 1, 2]


def test_a_failing_job_is_recorded_and_retried_on_resume(tmp_path):
    folder = tmp_path / "markers"
    folder.mkdir()
    grid = expand_grid({"value": [0, 1, 2, 3]}, {"folder": str(folder), "fail_at": 2})
    path = tmp_path / "sweep.csv"
    table = run_sweep(marker_job, grid, path=path, backend="processes", n_jobs=2)
    assert table["status"].tolist() == ["ok", "ok", "error", "ok"]
    assert table.loc[2, "error"] == "ValueError: value 2 is unlucky"
    assert np.isnan(table.loc[2, "square"])
    assert table["square"].drop(2).tolist() == [0, 1, 9]

    again = run_sweep(marker_job, grid, path=path)
    assert runs(folder) == {0: 1, 1: 1, 2: 2, 3: 1}
    pd.testing.assert_frame_equal(again, table)


def test_a_job_with_a_bad_return_value_is_an_error_row():
    def bad(*, random_state, x):
        return {"x": x} if x else [{"status": 1}]

    table = run_sweep(bad, [{"x": 1}, {"x": 0}])
    assert table["status"].tolist() == ["error", "error"]
    assert table["error"][0].startswith("TypeError: a job must return a list of row dicts")
    assert "reserved columns status" in table["error"][1]


# --------------------------------------------------------------------------- built-in jobs


def test_curve_job_on_the_12bit_task():
    table = run_sweep("curve", expand_grid({"label_noise": [0.0, 0.1]}))
    assert set(table.columns) >= {"beta", "i_xt", "i_ty", "n_clusters", "i_xy", "label_noise"}
    i_xy = table.groupby("label_noise")["i_xy"].first()
    np.testing.assert_allclose(i_xy[0.0], 1.0, atol=1e-3)  # Y is a balanced function of X
    assert (table["i_ty"] <= table["i_xy"] + 1e-9).all()


def test_estimate_job_reads_a_file(samples_csv):
    grid = [{"data": str(samples_csv), "x": "a", "y": ["b"], "method": "gaussian"}]
    table = run_sweep("estimate", grid)
    assert table["status"].tolist() == ["ok"]
    np.testing.assert_allclose(table["value"][0], 0.5 * np.log2(1 + 4), atol=0.15)
    assert table["y"][0] == '["b"]'  # list parameters are stored as JSON


# --------------------------------------------------------------------------- bad input


def test_resolve_job_by_name_path_and_callable():
    assert {"curve", "estimate"} <= set(available_jobs())
    name, func = resolve_job("ibkit.jobs:estimate_job")
    assert func is resolve_job("estimate")[1] and name == "ibkit.jobs:estimate_job"
    assert resolve_job(draw_job)[0].endswith(":draw_job")
    with pytest.raises(ValueError, match="unknown job 'nope'; choose one of: curve"):
        resolve_job("nope")
    with pytest.raises(ValueError, match="has no function 'nothing'"):
        resolve_job("ibkit.sweep:nothing")
    with pytest.raises(ImportError):
        resolve_job("no_such_module_here:f")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"grid": []}, "non-empty list of parameter dicts"),
        ({"grid": {"a": [1]}}, "non-empty list of parameter dicts"),
        ({"grid": [{"status": 1}]}, "reserved"),
        ({"grid": [{"n": 1}], "backend": "spark"}, "backend must be one of"),
        ({"grid": [{"n": 1}], "scheduler": "tcp://h:1"}, "needs backend='dask'"),
        ({"grid": [{"n": 1}], "n_jobs": 0}, "n_jobs must be an integer >= 1"),
        ({"grid": [{"n": 1}], "seed": -1}, "seed must be an integer >= 0"),
        ({"grid": [{"n": 1}], "path": "t.parquet"}, "must name a .csv"),
    ],
)
def test_run_sweep_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        run_sweep(draw_job, **kwargs)


def test_run_sweep_refuses_to_resume_from_another_table(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="is not a sweep table"):
        run_sweep(draw_job, [{"n": 1}], path=path)
    assert path.read_text() == "a,b\n1,2\n"


@pytest.mark.parametrize(
    ("job", "grid", "match"),
    [
        ("estimate", [{"rho": 0.5}], r"grid\[0\] \{rho=0.5\}: job 'estimate' needs the parameter "
         r"'method' \(its parameters: method, data, n_samples, .*, units, \.\.\.\)"),
        ("estimate", [{"method": "ksg"}, {"method": "ksg", "data": "gausian"}],
         r"grid\[1\] .*data='gausian' is neither one of gaussian, student_t, independent nor "
         "an existing file"),
        ("estimate", [{"method": "kde", "k": 3}], r"grid\[0\] \{method='kde', k=3\}: .*'k'"),
        ("estimate", [{"method": "nope"}], "unknown method 'nope'"),
        ("estimate", [{"method": "ksg", "dof": 3.0}], "data='gaussian': .*dof"),
        ("estimate", [{"method": "ksg", "n_samples": 0}], "n_samples must be an integer >= 2"),
        ("estimate", [{"method": "ksg", "units": "dits"}], "units must be"),
        ("estimate", [{"method": "ksg", "data": "{csv}"}], "is a file: give its columns as x"),
        ("estimate", [{"method": "ksg", "data": "{csv}", "x": "a", "y": "b", "rho": 0.5}],
         "rho apply to the ground-truth tasks"),
        ("curve", [{"max_clusterz": 3}], "the curve job has no parameter 'max_clusterz'"),
        ("curve", [{"data": "{csv}", "label_noise": 0.1}], "label_noise applies to data='12bit'"),
        ("curve", [{"normalize": False}], "the curve job sets normalize itself"),
        ("plane", [{"activation": "tanhh"}], r"unknown activation\(s\) \['tanhh'\]"),
        ("plane", [{"table": "everything"}], "table must be one of summary, compression"),
        ("plane", [{"epochz": 3}], "the plane job has no parameter 'epochz'"),
        ("plane", [{"seeds": 0}], "seeds must be an integer >= 1"),
        ("plane", [{"lr": -1.0}], "lr must be a finite number > 0"),
        ("vib", [{"beta": -1.0}], "beta must be a finite number >= 0"),
        ("vib", [{"beta": 1.0, "epochz": 3}], "the vib job has no parameter 'epochz'"),
        ("vib", [{"beta": 1.0, "data": "mnist"}], "data='mnist' is neither one of digits"),
        ("curve", [{"alpha": 0.5}, {"alpha": 5.0}],
         r"grid\[1\] \{alpha=5.0\}: alpha must be in \[0, 1\] \(1 = IB, 0 = DIB\); got 5.0"),
        ("curve", [{"max_clusters": 5000}], r"max_clusters must be <= \|X\| = 4096"),
        ("curve", [{"beta_max": 0.5}], "beta_max must be > 1"),
        ("vib", [{"beta": 1.0}, {"beta": 1.0, "epochs": 0}],
         r"grid\[1\] .*: epochs must be an integer >= 1; got 0"),
        ("vib", [{"beta": 1.0, "lr": 0.0}], "lr must be a finite number > 0"),
        ("vib", [{"beta": 1.0, "test_size": 1.5}], r"test_size must be in \(0, 1\)"),
        ("vib", [{"beta": 1.0, "encoder": [0]}], r"encoder\[0\] must be an integer >= 1"),
        ("vib", [{"beta": 1.0, "model": "nonlinear_ib", "power": 3}],
         r"power must be 1 \(IB\) or 2"),
    ],
)  # fmt: skip
def test_a_bad_grid_point_stops_the_sweep_before_any_job_runs(
    tmp_path, samples_csv, job, grid, match
):
    folder = tmp_path / "markers"
    folder.mkdir()
    first = {"value": 0, "folder": str(folder)}
    grid = [{k: v.format(csv=samples_csv) if isinstance(v, str) else v for k, v in p.items()}
            for p in grid]  # fmt: skip
    with pytest.raises(ValueError, match=match):
        run_sweep(job, grid, path=tmp_path / "out" / "t.csv")
    assert not (tmp_path / "out").exists()  # nothing ran, nothing was written
    with pytest.raises(
        ValueError,
        match=r"grid\[1\] \{valu=1.*has no parameter 'valu' and needs the parameter 'value'",
    ):
        run_sweep(marker_job, [first, {"valu": 1, "folder": str(folder)}])
    assert runs(folder) == {}


def test_a_parameter_can_belong_to_some_points_of_a_grid(tmp_path):
    grids = [{"method": ["ksg"], "k": [2, 5]}, {"method": ["gaussian"]}]
    table = run_sweep("estimate", expand_grid(grids, {"rho": 0.6, "n_samples": 300}))
    assert (table["status"] == "ok").all(), table["error"].dropna().tolist()
    assert table["method"].tolist() == ["ksg", "ksg", "gaussian"]
    np.testing.assert_array_equal(table["k"], [2.0, 5.0, np.nan])
    np.testing.assert_allclose(table["true_mi"], -0.5 * np.log2(1 - 0.6**2))
    # in one product the parameter reaches every point, and the estimator that does not
    # take it stops the sweep before it starts
    with pytest.raises(ValueError, match=r"grid\[1\] \{method='gaussian', k=2\}: .*'k'"):
        run_sweep("estimate", expand_grid({"method": ["ksg", "gaussian"], "k": [2]}))


def test_outputs_stay_inside_the_sweep_folder(tmp_path):
    study = {"seeds": 1, "epochs": 2, "n_points": 2, "hidden": [2], "estimators": ["bin0.07"]}
    path = tmp_path / "sweep" / "plane.csv"
    for out, match in [
        ("../escape", r"grid\[0\] .*: out='../escape' is not inside the sweep's output folder"),
        (".", "is not inside"),
    ]:
        with pytest.raises(ValueError, match=match):
            run_sweep("plane", [{"out": out, **study}], path=path)
    with pytest.raises(ValueError, match=r"grid\[1\] .*also the output of grid\[0\]"):
        run_sweep("plane", expand_grid({"activation": ["tanh", "relu"]}, {"out": "s", **study}))
    grid = [{"activation": "tanh", "out": "studies/tanh", **study},
            {"activation": "relu", "out": str(tmp_path / "elsewhere"), **study}]  # fmt: skip
    table = run_sweep("plane", grid, path=path)
    assert (table["status"] == "ok").all(), table["error"].dropna().tolist()
    assert (tmp_path / "sweep" / "studies" / "tanh" / "config.json").is_file()
    assert (tmp_path / "elsewhere" / "config.json").is_file()  # absolute: taken as given
    assert table.groupby("job_index")["out"].first().tolist() == ["studies/tanh", grid[1]["out"]]


def threads_job(*, random_state):
    """The threads of the BLAS libraries this job computes with."""
    from threadpoolctl import threadpool_info

    return [{"threads": max(pool["num_threads"] for pool in threadpool_info())}]


@pytest.mark.parametrize("backend", ["serial", "processes"])
def test_jobs_compute_on_one_blas_thread(backend):
    from threadpoolctl import threadpool_limits

    with threadpool_limits(2):  # what a two-core machine gives a process by default
        table = run_sweep(threads_job, [{}, {}], backend=backend, n_jobs=2)
    assert table["threads"].tolist() == [1, 1]


def test_a_local_dask_cluster_listens_on_loopback_only():
    psutil = pytest.importorskip("psutil")
    from ibkit.sweep import _dask_client

    def listening():
        me = psutil.Process()
        return {
            (p.pid, c.laddr.ip, c.laddr.port)
            for p in [me, *me.children(recursive=True)]
            for c in p.net_connections(kind="inet")
            if c.status == psutil.CONN_LISTEN
        }

    before = listening()
    with _dask_client(None, 1) as client:
        new = listening() - before
        link = client.dashboard_link
    assert new and {ip for _, ip, _ in new} == {"127.0.0.1"}, new
    assert link.startswith("http://127.0.0.1:")


# --------------------------------------------------------------------------- config


def test_load_config(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(
        'job = "estimate"\nseed = 4\nbackend = "processes"\n'
        '[grid]\nrho = [0.1, 0.5]\nmethod = ["ksg", "kde"]\n[fixed]\nn_samples = 100\n'
    )
    config = load_config(path)
    assert config.job == "estimate" and config.seed == 4 and config.backend == "processes"
    assert config.grid == expand_grid(
        {"rho": [0.1, 0.5], "method": ["ksg", "kde"]}, {"n_samples": 100}
    )


def test_example_config_is_valid():
    config = load_config(Path(__file__).parents[1] / "examples" / "sweep.toml")
    assert config.job in available_jobs() and len(config.grid) == 12


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('job = "estimate"\nseeds = 1\n', "unknown key\\(s\\) seeds"),
        ("seed = 1\n", "missing the key 'job'"),
        ('job = "estimate"\n[grid]\nrho = 0.5\n', "'rho' must be a non-empty list"),
        ('job = "estimate"\ngrid = 3\n', "'grid' must be a table"),
        ('job = "estimate\n', "not valid TOML"),
        ('job = "estimate"\nscheduler = 5\n', "scheduler must be the address of a Dask"),
        ('job = "estimate"\nn_jobs = "two"\n', "n_jobs must be an integer >= 1; got 'two'"),
        ('job = "estimate"\nseed = -1\n', "seed must be an integer >= 0"),
        ('job = "estimate"\nbackend = "spark"\n', "backend must be one of serial"),
        ("job = 3\n", "job must be a string; got 3"),
        ('job = "nope"\n', "unknown job 'nope'; choose one of: curve, estimate"),
        ('job = "estimate"\n[[grid]]\nrho = 0.5\n', "'rho' must be a non-empty list"),
        ('job = "estimate"\nfixed = [1]\n', "'fixed' must be a table"),
    ],
)
def test_load_config_rejects_bad_files(tmp_path, text, match):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ValueError, match=f"^{path}: .*{match}"):
        load_config(path)


def test_load_config_refuses_a_binary_file_in_one_line(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_bytes(b'job = "estimate"\n\xff\xfe\x00\x81')
    with pytest.raises(ValueError, match=f"^{path}: not valid TOML \\(not UTF-8 text\\)"):
        load_config(path)


def test_load_config_reads_a_list_of_grids(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(
        'job = "estimate"\n[[grid]]\nmethod = ["ksg"]\nk = [3, 5]\n'
        '[[grid]]\nmethod = ["gaussian"]\n[fixed]\nrho = 0.5\n'
    )
    assert load_config(path).grid == [
        {"method": "ksg", "k": 3, "rho": 0.5},
        {"method": "ksg", "k": 5, "rho": 0.5},
        {"method": "gaussian", "rho": 0.5},
    ]


def test_input_files_are_read_from_the_folder_of_the_config(tmp_path, samples_csv, monkeypatch):
    config = samples_csv.parent / "s.toml"
    config.write_text(
        'job = "estimate"\n[fixed]\ndata = "s.csv"\nx = "a"\ny = "b"\nmethod = "gaussian"\n'
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    cfg = load_config(config)
    assert cfg.grid[0]["data"] == str(samples_csv)
    assert run_sweep(cfg.job, cfg.grid)["status"].tolist() == ["ok"]


def test_load_config_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_config(tmp_path / "none.toml")


# --------------------------------------------------------------------------- plane and vib jobs


def test_plane_job_grid_gives_compression_rows_per_activation(tmp_path):
    grid = expand_grid(
        {"activation": ["tanh", "relu"]},
        {"seeds": 2, "epochs": 10, "n_points": 3, "estimators": ["bin0.07"]},
    )
    table = run_sweep("plane", grid, path=tmp_path / "plane.csv")
    assert (table["status"] == "ok").all(), table["error"].dropna().tolist()
    assert table.groupby("activation").size().to_dict() == {"relu": 6, "tanh": 6}
    assert set(table["n_seeds"]) == {2} and set(table["estimator"]) == {"bin0.07"}
    assert (table["drop_bits"] >= 0).all()
    # drop = peak - final (means over seeds), and the final value is at most the peak
    np.testing.assert_allclose(
        table["drop_bits"], table["peak_i_xt"] - table["final_i_xt"], atol=1e-9
    )
    assert (table["final_i_xt"] <= table["peak_i_xt"] + 1e-9).all()
    assert (table["final_i_xt"] >= 0).all()  # a plug-in I(X;T) = H(T) of bins is >= 0
    assert (table["peak_i_xt"] <= 12 + 1e-9).all()  # H(X) = 12 bits


def test_plane_job_per_seed_rows_in_a_kept_folder(tmp_path):
    study = {"seeds": [4, 7], "epochs": 5, "n_points": 2, "estimators": ["bin0.07"]}
    grid = [{"activation": "relu", "table": "compression", "out": str(tmp_path / "s"), **study}]
    table = run_sweep("plane", grid)
    assert sorted(set(table["seed"])) == [4, 7] and len(table) == 2 * 6
    assert (tmp_path / "s" / "compression.csv").is_file()


def test_vib_job_grid_over_beta_on_a_table_file(labelled_npz):
    options = {"data": str(labelled_npz), "seed": 0, "epochs": 2, "dim": 2, "encoder": [8]}
    grid = expand_grid({"beta": [1e-3, 1.0]}, options)
    table = run_sweep("vib", grid)
    assert (table["status"] == "ok").all(), table["error"].dropna().tolist()
    assert table["beta"].tolist() == [1e-3, 1.0] and len(table) == 2
    assert (table["relevance_bits"] <= table["h_y_bits"] + 1e-9).all()
    # with a fixed seed a job's row is the sweep's row at that beta (common random numbers)
    from ibkit.nn import vib_sweep

    data = np.load(labelled_npz)
    direct = vib_sweep(data["x"], data["y"], [1.0], epochs=2, dim=2, encoder=[8])
    assert table["rate_bits"].iloc[1] == pytest.approx(direct["rate_bits"].iloc[0])


def test_the_vib_job_trains_on_one_torch_thread(labelled_npz):
    torch = pytest.importorskip("torch")
    from ibkit.nn import torch_threads

    seen = []
    point = {"beta": 0.1, "data": str(labelled_npz), "epochs": 2, "dim": 2, "encoder": [4]}
    with torch_threads(2):  # what the process had
        table = run_sweep(
            "vib", [{**point, "progress": lambda *_: seen.append(torch.get_num_threads())}]
        )
        assert torch.get_num_threads() == 2  # and has again
    assert table["status"].tolist() == ["ok"], table["error"].tolist()
    assert seen and set(seen) == {1}


@pytest.mark.parametrize("name", ["plane_sweep.toml", "vib_sweep.toml"])
def test_example_configs_of_the_new_jobs_are_valid(name):
    config = load_config(Path(__file__).parents[1] / "examples" / name)
    assert config.job in available_jobs() and len(config.grid) in (4, 8)


def test_estimate_job_reads_y_as_labels_like_the_cli(tmp_path):
    from ibkit.measures import entropy

    # y is mostly numbers with one text class: an error without y_labels, labels with it
    classes = ["0.5"] * 4 + ["0.25"] * 4 + ["low"] * 2
    rows = "".join(f"{['0.5', '0.25', 'low'].index(c)},{c}\n" for c in classes)
    config = tmp_path / "labels.toml"
    (tmp_path / "s.csv").write_text("a,y\n" + rows)
    config.write_text(
        'job = "estimate"\n[grid]\ny_labels = [false, true]\n'
        '[fixed]\ndata = "s.csv"\nx = "a"\ny = "y"\nmethod = "plugin"\n'
    )
    cfg = load_config(config)
    table = run_sweep(cfg.job, cfg.grid)
    assert table["status"].tolist() == ["error", "ok"]
    assert "read the column as class labels (y_labels=True" in table["error"][0]
    np.testing.assert_allclose(table["value"][1], entropy([0.4, 0.4, 0.2]), rtol=1e-12)
    with pytest.raises(ValueError, match="y_labels reads the y column of a file; data='gaussian'"):
        run_sweep("estimate", [{"method": "ksg", "y_labels": True}])


def test_a_misspelt_data_name_in_a_config_shows_what_was_written(tmp_path):
    config = tmp_path / "typo.toml"
    config.write_text('job = "estimate"\n[fixed]\ndata = "gausian"\nmethod = "ksg"\n')
    with pytest.raises(ValueError) as info:
        load_config(config)
    assert str(info.value) == (
        f"{config}: data='gausian' is neither one of gaussian, student_t, independent nor an "
        f"existing file (no file {tmp_path / 'gausian'}); fix the name or the path"
    )

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


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
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
    """In-process, loky processes, a LocalCluster started by run_sweep and a scheduler."""
    grid = expand_grid(
        {"method": ["ksg", "gaussian"], "rho": [0.2, 0.8]},
        {"n_samples": 200, "data": "gaussian", "dim": 1},
    )
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
    assert (tables["serial"]["status"] == "ok").all()
    assert len(tables["serial"]) == 4
    # the ground truth of the task is attached, and estimates are near it
    truth = -0.5 * np.log2(1 - tables["serial"]["rho"] ** 2)
    np.testing.assert_allclose(tables["serial"]["true_mi"], truth)
    assert (abs(tables["serial"]["value"] - truth) < 0.35).all()


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


def test_estimate_job_reads_a_file(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(400)
    pd.DataFrame({"a": x, "b": x + 0.5 * rng.standard_normal(400)}).to_csv(
        tmp_path / "s.csv", index=False
    )
    grid = [{"data": str(tmp_path / "s.csv"), "x": "a", "y": ["b"], "method": "gaussian"}]
    table = run_sweep("estimate", grid)
    assert table["status"].tolist() == ["ok"]
    np.testing.assert_allclose(table["value"][0], 0.5 * np.log2(1 + 4), atol=0.15)
    assert table["y"][0] == '["b"]'  # list parameters are stored as JSON


# --------------------------------------------------------------------------- bad input


def test_resolve_job_by_name_path_and_callable():
    assert {"curve", "estimate"} <= set(available_jobs())
    name, func = resolve_job("ibkit.sweep:estimate_job")
    assert func is resolve_job("estimate")[1] and name == "ibkit.sweep:estimate_job"
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
    ],
)
def test_load_config_rejects_bad_files(tmp_path, text, match):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ValueError, match=match):
        load_config(path)


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
    assert (table["peak_i_xt"] <= 12 + 1e-9).all()  # H(X) = 12 bits


def test_plane_job_per_seed_rows_in_a_kept_folder(tmp_path):
    study = {"seeds": [4, 7], "epochs": 5, "n_points": 2, "estimators": ["bin0.07"]}
    grid = [{"activation": "relu", "table": "compression", "out": str(tmp_path / "s"), **study}]
    table = run_sweep("plane", grid)
    assert sorted(set(table["seed"])) == [4, 7] and len(table) == 2 * 6
    assert (tmp_path / "s" / "compression.csv").is_file()


def test_plane_job_refuses_an_unknown_table():
    table = run_sweep("plane", [{"activation": "tanh", "table": "everything"}])
    assert table["status"].tolist() == ["error"]
    assert "table must be one of summary, compression" in table["error"][0]


def test_vib_job_grid_over_beta_on_a_table_file(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.random((150, 3))
    path = tmp_path / "data.npz"
    np.savez(path, x=x, y=(x[:, 0] > 0.5).astype(int))
    options = {"data": str(path), "seed": 0, "epochs": 2, "dim": 2, "encoder": [8]}
    grid = expand_grid({"beta": [1e-3, 1.0]}, options)
    table = run_sweep("vib", grid)
    assert (table["status"] == "ok").all(), table["error"].dropna().tolist()
    assert table["beta"].tolist() == [1e-3, 1.0] and len(table) == 2
    assert (table["relevance_bits"] <= table["h_y_bits"] + 1e-9).all()
    # with a fixed seed a job's row is the sweep's row at that beta (common random numbers)
    from ibkit.nn.vib_sweep import vib_sweep

    direct = vib_sweep(x, (x[:, 0] > 0.5).astype(int), [1.0], epochs=2, dim=2, encoder=[8])
    assert table["rate_bits"].iloc[1] == pytest.approx(direct["rate_bits"].iloc[0])


@pytest.mark.parametrize("name", ["plane_sweep.toml", "vib_sweep.toml"])
def test_example_configs_of_the_new_jobs_are_valid(name):
    config = load_config(Path(__file__).parents[1] / "examples" / name)
    assert config.job in available_jobs() and len(config.grid) in (4, 8)

"""Interrupted runs resume to exactly the table of an uninterrupted run: no row lost, none twice.

Truth: the uninterrupted run of the same configuration, byte for byte. Interruptions are
real where that is cheap (processes killed with SIGKILL) and otherwise the files such a
kill leaves (a table cut mid-row or at a row boundary, a commit never written).
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

psutil = pytest.importorskip("psutil")
torch = pytest.importorskip("torch")

from sweep_jobs import gated_job, rows_job  # noqa: E402

from ibkit.datasets import tishby_12bit  # noqa: E402
from ibkit.nn import MLP, fit  # noqa: E402
from ibkit.study.plane_study import PlaneStudy, run_plane_study  # noqa: E402
from ibkit.sweep import expand_grid, run_sweep  # noqa: E402

TESTS = Path(__file__).parent


def wait_for(condition, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def kill_all(processes):
    for proc in processes:
        try:
            proc.send_signal(signal.SIGKILL)
        except psutil.NoSuchProcess:
            pass
    assert_exit(processes)


def assert_exit(processes, timeout=120.0):
    """Wait until every process has ended (the kernel says so), at most ``timeout`` s."""
    _, alive = psutil.wait_procs(processes, timeout=timeout)
    assert not alive, f"still running: {[p.pid for p in alive]}"


# --------------------------------------------------------------------------- sweeps

GRID = expand_grid({"tag": [0, 1, 2]}, {"n_rows": 40})


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    path = tmp_path_factory.mktemp("sweep") / "full.csv"
    run_sweep(rows_job, GRID, seed=4, path=path)
    return path.read_bytes()


def test_a_job_cut_short_on_disk_is_run_again(tmp_path, uninterrupted):
    path = tmp_path / "cut.csv"
    run_sweep(rows_job, GRID, seed=4, path=path)
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:-20]))  # the last job keeps 20 of its 40 rows
    calls = []
    table = run_sweep(rows_job, GRID, seed=4, path=path, progress=lambda d, t: calls.append(d))
    assert calls == [2, 3]  # two jobs were whole; the third ran again
    assert len(table) == 120
    assert path.read_bytes() == uninterrupted


def test_rows_written_but_never_committed_are_run_again_not_duplicated(tmp_path, uninterrupted):
    path = tmp_path / "uncommitted.csv"
    run_sweep(rows_job, GRID, seed=4, path=path)
    ledger = path.with_name("uncommitted.csv.done")
    lines = ledger.read_text().splitlines(keepends=True)
    ledger.write_text("".join(lines[:-1]) + lines[-1][:10])  # killed while committing
    calls = []
    run_sweep(rows_job, GRID, seed=4, path=path, progress=lambda d, t: calls.append(d))
    assert calls == [2, 3]
    assert path.read_bytes() == uninterrupted


SWEEP = textwrap.dedent(
    """
    import json, sys
    sys.path.insert(0, sys.argv[2])
    from sweep_jobs import gated_job
    from ibkit.sweep import run_sweep
    run_sweep(gated_job, json.loads(sys.argv[3]), seed=9, path=sys.argv[1],
              backend="processes", n_jobs=2)
    """
)


def test_a_sweep_killed_with_sigkill_resumes_to_the_same_bytes(tmp_path):
    """Jobs 0 and 1 finish; the others wait for a gate, so the kill lands mid-run."""
    gate = tmp_path / "gate"
    grid = expand_grid({"tag": list(range(12))}, {"n_rows": 30, "gate": str(gate), "open_below": 2})
    path = tmp_path / "killed.csv"
    args = [sys.executable, "-c", SWEEP, str(path), str(TESTS), json.dumps(grid)]
    proc = subprocess.Popen(args)
    ledger = path.with_name("killed.csv.done")
    workers = []
    try:
        wait_for(lambda: ledger.exists() and ledger.read_text().count("\n") == 2)
        workers = psutil.Process(proc.pid).children(recursive=True)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        kill_all(workers)
    assert ledger.read_text().count("\n") == 2  # the gated jobs never finished
    gate.touch()
    calls = []
    run_sweep(gated_job, grid, seed=9, path=path, progress=lambda d, t: calls.append(d))
    assert calls == list(range(2, 13))  # the two committed jobs were not run again
    run_sweep(gated_job, grid, seed=9, path=tmp_path / "full.csv")
    assert path.read_bytes() == (tmp_path / "full.csv").read_bytes()


# --------------------------------------------------------------------------- plane studies

STUDY = PlaneStudy(
    activations=("tanh",),
    seeds=(0, 1),
    epochs=12,
    n_points=5,
    hidden=(5, 3),
    estimators=("bin30[-1:1]", "kde0.1"),
)


@pytest.fixture(scope="module")
def study_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("study") / "full"
    run_plane_study(STUDY, out)
    return out


def _cut_rows(path: Path, n: int) -> None:
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:-n]))


def _cut_mid_row(path: Path) -> None:
    text = path.read_text()
    path.write_text(text[: len(text) - len(text.splitlines()[-1]) // 2 - 1])


@pytest.mark.parametrize(
    ("name", "cut"),
    [
        ("plane_tanh.csv", _cut_mid_row),
        ("plane_tanh.csv", lambda p: _cut_rows(p, 5)),  # part of the last epoch
        ("plane_tanh.csv", lambda p: _cut_rows(p, 2 * 3 * 2 * 2)),  # the last two epochs
        ("plane_tanh_gradients.csv", lambda p: _cut_rows(p, 3)),
    ],
    ids=["mid-row", "part-of-an-epoch", "two-epochs", "gradients"],
)
def test_a_cut_plane_table_is_completed_to_the_uninterrupted_one(tmp_path, study_dir, name, cut):
    out = tmp_path / "cut"
    shutil.copytree(study_dir, out)
    cut(out / name)
    run_plane_study(STUDY, out)  # the checkpoint is at the last epoch: training starts over
    for table in ("plane_tanh.csv", "plane_tanh_gradients.csv", "results.csv", "history.csv"):
        assert (out / table).read_bytes() == (study_dir / table).read_bytes(), table


PLANE = textwrap.dedent(
    """
    import sys
    from joblib import parallel_config
    from ibkit.study.plane_study import PlaneStudy, run_plane_study
    study = PlaneStudy(activations=("tanh", "relu"), seeds=(0,), epochs=4000, n_points=4000,
                       hidden=(3,), estimators=("bin0.07",), track_gradients=False)
    with parallel_config("loky", idle_worker_timeout=1):  # an idle worker ends after 1 s
        run_plane_study(study, sys.argv[1], n_jobs=2)
    """
)


def test_workers_stop_writing_when_the_plane_study_is_killed(tmp_path):
    """Orphaned workers stop at their next write, long before their 4000 epochs.

    A stopped worker is idle and ends after a second (``idle_worker_timeout``); one that
    went on writing would end only after its last epoch. So the tables are final once
    the workers have ended, and must not hold every epoch.
    """
    out = tmp_path / "killed"
    tables = [out / "plane_tanh.csv", out / "plane_relu.csv"]
    proc = subprocess.Popen([sys.executable, "-c", PLANE, str(out)])
    workers = []
    try:
        wait_for(lambda: all(t.exists() and t.stat().st_size > 2000 for t in tables), 120)
        workers = psutil.Process(proc.pid).children(recursive=True)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert_exit(workers)  # nobody kills them: they stop by themselves
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        kill_all(workers)
    for table in tables:
        text = table.read_text()
        assert text.endswith("\n"), "a write was cut short"
        assert len(text.splitlines()) < 4000, "the study ended before it was killed"


# --------------------------------------------------------------------------- checkpoints


class Payload:
    """Not a tensor: refused by ``torch.load(weights_only=True)``."""


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (
            lambda p: torch.save({"evil": Payload()}, p),
            "it holds objects other than tensors and numbers (test_resume.Payload), refused "
            "for safety",
        ),
        (lambda p: p.write_bytes(b""), "empty file"),
        (lambda p: torch.save([1, 2], p), "not a checkpoint written by fit"),
        ("truncated", "truncated, or not written by torch.save"),
    ],
    ids=["foreign-pickle", "empty", "a-list", "truncated"],
)
def test_an_unusable_checkpoint_is_one_clear_error(tmp_path, content, reason):
    task = tishby_12bit()
    x, y = task.x[:64], task.y[:64]
    path = tmp_path / "run.pt"
    if content == "truncated":
        fit(MLP(12, hidden=(3,), seed=0), x, y, epochs=2, checkpoint=path)
        path.write_bytes(path.read_bytes()[:300])
    else:
        content(path)
    with pytest.raises(ValueError) as info:
        fit(MLP(12, hidden=(3,), seed=0), x, y, epochs=2, checkpoint=path)
    assert str(info.value) == (
        f"checkpoint {path} cannot be used ({reason}); delete it to train from the start, or "
        "pass another checkpoint path"
    )


def test_a_checkpoint_of_another_model_is_one_clear_error(tmp_path):
    task = tishby_12bit()
    path = tmp_path / "run.pt"
    fit(MLP(12, hidden=(3,), seed=0), task.x[:64], task.y[:64], epochs=2, checkpoint=path)
    with pytest.raises(ValueError, match=r"cannot be used \(it holds another model.*delete it"):
        fit(MLP(12, hidden=(4,), seed=0), task.x[:64], task.y[:64], epochs=2, checkpoint=path)
    assert path.exists()  # kept: the user decides

"""Output folders and appended tables: one writer per folder, no orphan writes, whole rows.

Truth: the other writers are real processes (started here, killed with SIGKILL), and the
lock state is read from the kernel with :func:`fcntl.flock`, independently of the code
under test.
"""

from __future__ import annotations

import fcntl
import os
import signal
import socket
import subprocess
import sys
import textwrap

import pandas as pd
import pytest

from ibkit._tables import (
    LOCK_NAME,
    BusyError,
    CsvTable,
    FolderLock,
    Owner,
    OwnerGoneError,
    atomic_write,
    writing_for,
)

HOLD = textwrap.dedent(
    """
    import sys, time
    from ibkit import _tables
    with getattr(_tables, sys.argv[2])(sys.argv[1]):
        print("locked", flush=True)
        time.sleep(600)
    """
)


@pytest.fixture
def holder(tmp_path):
    """Start a process that holds a lock; kill it (SIGKILL) with ``kill()``.

    ``start(target)`` locks a folder, ``start(target, "TableLock")`` a table file.
    """
    started = []

    def start(target, kind="FolderLock"):
        proc = subprocess.Popen(
            [sys.executable, "-c", HOLD, str(target), kind], stdout=subprocess.PIPE, text=True
        )
        started.append(proc)
        assert proc.stdout.readline().strip() == "locked"
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait()


def kill(proc):
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def lock_is_free(lock):
    """Ask the kernel, not the code under test, whether nobody holds the lock file."""
    fd = os.open(lock, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


def test_a_second_writer_is_refused_naming_the_folder_and_the_pid(tmp_path, holder):
    folder = tmp_path / "out"
    proc = holder(folder)
    with pytest.raises(BusyError, match=f"{folder} is in use by process {proc.pid}"):
        FolderLock(folder).__enter__()
    with pytest.raises(OSError, match="choose another output folder"):
        FolderLock(folder).__enter__()


def test_the_lock_is_released_on_exit_and_on_error(tmp_path):
    folder = tmp_path / "out"
    lock = folder / LOCK_NAME
    with FolderLock(folder) as owner:
        assert not lock_is_free(lock)
        assert owner.pid == os.getpid() and owner.lock == lock.absolute()
        assert lock.read_text() == f"{os.getpid()}\n"
    assert lock_is_free(lock)
    with pytest.raises(KeyboardInterrupt), FolderLock(folder):
        raise KeyboardInterrupt
    assert lock_is_free(lock)


def test_the_lock_file_of_a_killed_run_blocks_nothing(tmp_path, holder):
    folder = tmp_path / "out"
    proc = holder(folder)
    kill(proc)
    assert (folder / LOCK_NAME).read_text() == f"{proc.pid}\n"  # left behind
    with FolderLock(folder) as owner:
        assert owner.pid == os.getpid()


def test_a_file_is_not_a_folder(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(ValueError, match="is a file, not a folder"):
        FolderLock(tmp_path / "f").__enter__()


# --------------------------------------------------------------------------- owners


def test_writes_stop_once_the_owner_is_killed(tmp_path, holder):
    """What a worker sees: its parent holds the folder, then is killed (kill -9)."""
    folder = tmp_path / "out"
    table = CsvTable(folder / "t.csv")
    proc = holder(folder)
    with writing_for(Owner((folder / LOCK_NAME).absolute(), proc.pid, socket.gethostname())):
        table.append(pd.DataFrame({"a": [1]}))  # the owner is alive: the write goes through
        kill(proc)
        with pytest.raises(OwnerGoneError, match=f"process {proc.pid}, which has ended"):
            table.append(pd.DataFrame({"a": [2]}))
        with pytest.raises(OwnerGoneError):
            table.append(pd.DataFrame({"b": [3]}))  # a new column: a rewrite
        with pytest.raises(OwnerGoneError):
            table.remove([True])
        with pytest.raises(OwnerGoneError), atomic_write(folder / "other.txt") as handle:
            handle.write("x")
    assert (folder / "t.csv").read_text() == "a\n1\n"
    assert table.frame.to_dict("list") == {"a": [1]}  # memory and file agree
    assert not (folder / "other.txt").exists()


def test_writes_stop_once_another_run_owns_the_folder(tmp_path, holder):
    folder = tmp_path / "out"
    first = holder(folder)
    token = Owner((folder / LOCK_NAME).absolute(), first.pid, socket.gethostname())
    kill(first)
    second = holder(folder)
    with writing_for(token), pytest.raises(OwnerGoneError, match=f"process {second.pid} holds"):
        CsvTable(folder / "t.csv").append(pd.DataFrame({"a": [1]}))
    assert not (folder / "t.csv").exists()


# --------------------------------------------------------------------------- tables


def test_a_torn_last_line_is_dropped_on_load_and_from_the_file(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b\n1,x\n2,y\n3,")  # killed while writing row 3
    table = CsvTable(path, text_columns=["b"])
    assert table.frame.to_dict("list") == {"a": [1, 2], "b": ["x", "y"]}
    table.append(pd.DataFrame({"a": [4], "b": ["z"]}))
    assert path.read_text() == "a,b\n1,x\n2,y\n4,z\n"
    assert CsvTable(path, ["b"]).frame["a"].tolist() == [1, 2, 4]


def test_rows_are_appended_and_new_columns_widen_the_file(tmp_path):
    path = tmp_path / "sub" / "t.csv"
    table = CsvTable(path)
    table.append(pd.DataFrame({"a": [1]}))
    table.append(pd.DataFrame({"a": [2]}))
    table.append(pd.DataFrame({"a": [3], "b": [0.5]}))
    assert path.read_text() == "a,b\n1,\n2,\n3,0.5\n"
    table.remove(table.frame["a"] == 2)
    assert path.read_text() == "a,b\n1,\n3,0.5\n"


@pytest.mark.parametrize(
    "content", [b"a,b\n1,2\n3,4,5,6\n", b"\xff\xfe\x00garbage\n", b"a\n\x00\x81\n"]
)
def test_an_unreadable_table_names_the_file_and_the_fix(tmp_path, content):
    path = tmp_path / "t.csv"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=rf"{path} is not a table .*delete it to start over"):
        CsvTable(path)


# --------------------------------------------------------------------------- runs


def test_a_sweep_refuses_a_table_in_use_and_writes_nothing(tmp_path, holder):
    from ibkit.sweep import run_sweep

    path = tmp_path / "out" / "t.csv"
    proc = holder(path, "TableLock")
    with pytest.raises(OSError, match=f"{path} is in use by process {proc.pid}.*another path"):
        run_sweep("estimate", [{"method": "gaussian"}], path=path)
    assert not path.exists()
    kill(proc)
    assert run_sweep("estimate", [{"method": "gaussian"}], path=path)["status"].tolist() == ["ok"]


def test_sweeps_into_one_folder_lock_their_own_tables(tmp_path, holder, monkeypatch):
    """Another table of the folder is busy, the folder too: a sweep on its own table runs."""
    from ibkit.sweep import run_sweep

    monkeypatch.chdir(tmp_path)
    holder(tmp_path / "other.csv", "TableLock")
    holder(tmp_path, "FolderLock")
    table = run_sweep("estimate", [{"method": "gaussian"}], path="mi.csv")
    assert table["status"].tolist() == ["ok"]
    assert lock_is_free(tmp_path / "mi.csv.lock")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        LOCK_NAME, "mi.csv", "mi.csv.done", "mi.csv.lock", "other.csv.lock"
    ]  # fmt: skip


def test_the_sweep_command_locks_its_whole_output_folder(tmp_path, holder):
    from typer.testing import CliRunner

    from ibkit.cli import app

    config = tmp_path / "s.toml"
    config.write_text('job = "estimate"\n[fixed]\nmethod = "gaussian"\n')
    proc = holder(tmp_path / "out")
    result = CliRunner().invoke(app, ["sweep", str(config), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert result.stderr.startswith(
        f"ibkit sweep: error: {tmp_path / 'out'} is in use by process {proc.pid}"
    )
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [LOCK_NAME]


def test_a_plane_study_refuses_a_folder_in_use_and_writes_nothing(tmp_path, holder):
    from ibkit.study.plane_study import PlaneStudy, run_plane_study

    proc = holder(tmp_path / "out")
    with pytest.raises(OSError, match=f"in use by process {proc.pid}"):
        run_plane_study(PlaneStudy(epochs=2, n_points=2), tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [LOCK_NAME]

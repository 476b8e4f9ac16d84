"""Every CSV that ibkit appends to, and the locks of the outputs they live in.

Three guarantees, however a run ends (Ctrl-C, ``kill -9``, a crash):

- **One writer per output.** A run holds a lock on its output from start to end: an
  exclusive :func:`fcntl.flock` on a lock file that holds the owner's PID. A plane study
  or ``ibkit sweep --out DIR`` locks its folder (:class:`FolderLock`: the file
  ``.ibkit.lock`` in it); :func:`ibkit.sweep.run_sweep` locks its table
  (:class:`TableLock`: ``<name>.lock`` beside it), so sweeps writing different tables
  into one folder run side by side. A second run on a locked output is refused with
  :class:`BusyError`. The kernel releases the lock when its owner exits, however it
  exits, so a lock file left behind by a killed run blocks nothing.
- **No orphan writes.** Worker processes receive the owner's :class:`Owner` and install it
  with :func:`writing_for`; every write of this module (and every training checkpoint)
  first calls :func:`check_owners`, which raises :class:`OwnerGoneError` once the owner
  has exited or another run has taken its lock.
- **Whole rows, whole units.** Rows are appended and synced to disk; a torn last line (a
  write cut short) is dropped on load. :class:`JobTable`, the table of a sweep, commits the
  rows of each job with a line in a ledger beside it, so a job counts as finished only
  when all its rows are there exactly once. :class:`PlaneTables`, the tables of the
  information-plane recorder, grow by blocks of rows per epoch, checked by count on load:
  the rows of an epoch recorded in part are dropped.

Locks need POSIX :func:`fcntl.flock`. They guard processes of one machine: a worker on
another machine (a remote Dask cluster) cannot see the owner and does not check it.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import socket
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from ibkit._validation import InvalidParameterError

__all__ = [
    "LOCK_NAME",
    "RESERVED",
    "BusyError",
    "CsvTable",
    "FolderLock",
    "JobTable",
    "Owner",
    "OwnerGoneError",
    "PlaneTables",
    "TableLock",
    "atomic_write",
    "check_owners",
    "write_csv",
    "writing_for",
]

#: The lock file of an output folder.
LOCK_NAME = ".ibkit.lock"

#: Columns a sweep adds around its parameters; parameters and job rows may not use them.
RESERVED = ("job_index", "status", "error", "job_key")

#: How long a lock is retried before the output counts as busy.
_LOCK_PATIENCE_S = 0.2


# --------------------------------------------------------------------------- locks


class BusyError(OSError):
    """Another process holds the lock of an output folder or table."""


class OwnerGoneError(RuntimeError):
    """The process that owns an output is gone: its workers stop writing there."""


@dataclass(frozen=True)
class Owner:
    """The process allowed to write an output; picklable, for its workers.

    Attributes
    ----------
    lock : Path
        The lock file of the output (absolute).
    pid : int
        The owner's process id, as written in the lock file.
    host : str
        The owner's machine; on other machines :meth:`check` cannot see it and passes.
    """

    lock: Path
    pid: int
    host: str

    def check(self) -> None:
        """Raise :class:`OwnerGoneError` unless the owner still holds its lock."""
        if self.pid == os.getpid() or self.host != socket.gethostname():
            return
        locked, pid = _holder(self.lock)
        if not locked or pid not in (None, self.pid):  # None: a new owner is writing its PID
            now = f"process {pid} holds it now" if locked else "nobody holds it now"
            raise OwnerGoneError(
                f"the lock {self.lock} belonged to process {self.pid}, which has ended "
                f"({now}); this worker stops writing"
            )


class _Lock:
    """Exclusive use of an output for the length of a ``with`` block.

    Entering takes the lock (or raises :class:`BusyError` naming the output and the PID
    that holds it) and returns the :class:`Owner` to hand to worker processes. Leaving
    releases the lock; the lock file stays, and blocks nothing once released.
    Subclasses say where the lock file is and what to do when the output is busy.
    """

    #: The end of the message of :class:`BusyError`: another place to write to.
    elsewhere = ""

    def __init__(self, target: str | os.PathLike[str]) -> None:
        self.target = Path(target)
        self._fd: int | None = None

    def _lock_file(self) -> Path:
        """Prepare the output's folder and return the path of the lock file."""
        raise NotImplementedError

    def __enter__(self) -> Owner:
        path = self._lock_file()
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        if not _take(fd):
            pid = _read_pid(fd)
            os.close(fd)
            who = "another process" if pid is None else f"process {pid}"
            raise BusyError(
                f"{self.target} is in use by {who} (lock file {path}); wait for that run to "
                f"end or stop it, or {self.elsewhere}"
            )
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        return Owner(path.absolute(), os.getpid(), socket.gethostname())

    def __exit__(self, *exc: Any) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the lock
            self._fd = None


class FolderLock(_Lock):
    """Exclusive use of an output folder: the lock file :data:`LOCK_NAME` in it.

    Entering creates the folder if needed.

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> with FolderLock(folder) as owner:
    ...     try:
    ...         FolderLock(folder).__enter__()
    ...     except BusyError as exc:
    ...         print(f"process {owner.pid}" in str(exc))
    True
    """

    elsewhere = "choose another output folder"

    def _lock_file(self) -> Path:
        if self.target.exists() and not self.target.is_dir():
            raise InvalidParameterError(
                f"{self.target} is a file, not a folder; choose a folder for the output"
            )
        self.target.mkdir(parents=True, exist_ok=True)
        return self.target / LOCK_NAME


class TableLock(_Lock):
    """Exclusive use of one table file: the lock file ``<name>.lock`` beside it.

    Tables in one folder are locked apart, so runs writing different tables there do not
    block each other. Entering creates the table's folder if needed.
    """

    elsewhere = "choose another path"

    def _lock_file(self) -> Path:
        self.target.parent.mkdir(parents=True, exist_ok=True)
        return self.target.with_name(self.target.name + ".lock")


def _take(fd: int) -> bool:
    """Take the exclusive lock on ``fd``; False if another process keeps it.

    A holder that only checks a lock (a worker, before it writes) keeps it for
    microseconds, so the lock is retried for :data:`_LOCK_PATIENCE_S`.
    """
    import fcntl

    deadline = time.monotonic() + _LOCK_PATIENCE_S
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)


def _read_pid(fd: int) -> int | None:
    text = os.pread(fd, 32, 0).decode(errors="replace").strip()
    return int(text) if text.isdigit() else None


def _holder(lock: Path) -> tuple[bool, int | None]:
    """Whether a process holds the lock file ``lock``, and the PID written in it."""
    import fcntl

    try:
        fd = os.open(lock, os.O_RDONLY)
    except FileNotFoundError:
        return False, None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True, _read_pid(fd)
    else:
        return False, None  # closing the descriptor frees the lock again
    finally:
        os.close(fd)


_OWNERS: list[Owner] = []


@contextlib.contextmanager
def writing_for(owner: Owner | None) -> Iterator[None]:
    """Check that ``owner`` is alive before every write of this process in the block.

    For worker processes: when the run that owns the folder is killed, their next write
    raises :class:`OwnerGoneError` instead of changing its files. ``None`` checks nothing.
    """
    if owner is None:
        yield
        return
    _OWNERS.append(owner)
    try:
        yield
    finally:
        _OWNERS.remove(owner)


def check_owners() -> None:
    """Raise :class:`OwnerGoneError` if an owner installed by :func:`writing_for` is gone."""
    for owner in _OWNERS:
        owner.check()


# --------------------------------------------------------------------------- files


@contextlib.contextmanager
def atomic_write(path: Path, mode: str = "w") -> Iterator[IO[Any]]:
    """A new file that replaces ``path`` whole, synced, when the block ends without error."""
    check_owners()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, mode, **({} if "b" in mode else {"newline": ""})) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_csv(frame: Any, path: Path) -> None:
    """Write a DataFrame to ``path`` atomically (no index)."""
    with atomic_write(path) as handle:
        frame.to_csv(handle, index=False)


def _append(path: Path, text: str) -> None:
    """Append ``text`` to ``path`` and sync it to disk."""
    check_owners()
    with path.open("a", newline="") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def _intact(path: Path) -> tuple[bytes, bool]:
    """The bytes of ``path`` up to its last newline, and whether a torn tail was cut off."""
    data = path.read_bytes()
    end = data.rfind(b"\n") + 1
    return data[:end], end < len(data)


def _unreadable(path: Path, exc: Exception) -> InvalidParameterError:
    reason = " ".join(str(exc).split()) or type(exc).__name__
    return InvalidParameterError(
        f"{path} is not a table ibkit can continue ({reason}); delete it to start over, "
        "or choose another path"
    )


# --------------------------------------------------------------------------- tables


class CsvTable:
    """A table kept in memory and mirrored to a CSV that grows by blocks of rows.

    A torn last line is dropped on load (and from the file at the next write). An append
    with the file's columns adds the block and syncs it; new columns (or a torn file)
    rewrite the whole file atomically with the wider header. The rows in memory change
    only once the file has them: a write that is refused (:class:`OwnerGoneError`) or
    fails leaves the table as it was.

    Parameters
    ----------
    path : Path or None
        The CSV file; None keeps the table in memory only.
    text_columns : sequence of str
        Columns read back as text (so ``"1"`` stays a string).
    """

    def __init__(self, path: Path | None, text_columns: Sequence[str] = ()) -> None:
        self.path = path
        self.text_columns = tuple(text_columns)
        self.frame: Any = None
        self._torn = False
        if path is not None and path.is_file():
            data, self._torn = _intact(path)
            if data:
                self.frame = self._parse(data)

    def _parse(self, data: bytes) -> Any:
        import pandas as pd

        try:
            return pd.read_csv(
                io.BytesIO(data),
                dtype=dict.fromkeys(self.text_columns, str),
                keep_default_na=False,
                na_values=[""],
            )
        except (ValueError, pd.errors.ParserError) as exc:  # includes UnicodeDecodeError
            raise _unreadable(self.path, exc) from None

    def append(self, rows: Any) -> None:
        """Add a block of rows (a DataFrame) to the file, then to the table."""
        import pandas as pd

        old = None if self.frame is None else list(self.frame.columns)
        frame = rows if old is None else pd.concat([self.frame, rows], ignore_index=True)
        if self.path is not None and (old is None or list(frame.columns) != old or self._torn):
            self._rewrite(frame)
        elif self.path is not None:
            _append(self.path, rows.reindex(columns=old).to_csv(index=False, header=False))
        self.frame = frame

    def remove(self, mask: Any) -> None:
        """Drop the rows where the boolean ``mask`` is true, from the file and the table."""
        frame = self.frame[~np.asarray(mask, dtype=bool)].reset_index(drop=True)
        if self.path is not None:
            self._rewrite(frame)
        self.frame = frame

    def _rewrite(self, frame: Any) -> None:
        write_csv(frame, self.path)
        self._torn = False


class PlaneTables:
    """The tables of an information-plane recording: results and gradients, by epoch.

    The results go to ``path`` and the gradients to ``<stem>_gradients<suffix>`` beside
    it (both in memory only without a path). Rows belong to this recording by their
    ``run`` and label columns, and to member ``i`` by ``member == i`` and its seed. Each
    recorded epoch adds a block of rows per member to a table; :meth:`complete_epochs`
    tells the epochs whose blocks are all whole and drops the rows of the others. The
    files are read when the object is made.

    Parameters
    ----------
    path : Path or None
        The results CSV.
    key : dict
        The columns and values that mark the rows of this recording (``run`` and the
        labels).
    seeds : sequence
        The seed of each member (NaN for none).
    text_columns : sequence of str
        Columns read back as text.
    """

    def __init__(
        self,
        path: Path | None,
        key: dict[str, Any],
        seeds: Sequence[Any],
        text_columns: Sequence[str] = (),
    ) -> None:
        self.key, self.seeds = key, list(seeds)
        self.tables = {
            "results": CsvTable(path, text_columns),
            "gradients": CsvTable(_gradients_path(path), text_columns),
        }

    def frame(self, kind: str) -> Any:
        """The rows of table ``kind`` (``"results"`` or ``"gradients"``), or None."""
        return self.tables[kind].frame

    def append(self, kind: str, rows: Any) -> None:
        """Add a block of rows to table ``kind``."""
        self.tables[kind].append(rows)

    def complete_epochs(self, block_rows: dict[str, int]) -> set[int]:
        """Epochs whose blocks are whole in every table named in ``block_rows``.

        ``block_rows[kind]`` is the number of rows of one member's block in table
        ``kind``. The rows of this recording at other epochs (left by a run killed while
        writing them) are dropped from the tables and their files.
        """
        mine = {kind: self._mine(kind) for kind in block_rows if self.frame(kind) is not None}
        complete = set.intersection(
            *(self._whole(kind, mine.get(kind), n) for kind, n in block_rows.items())
        )
        for kind, mask in mine.items():
            stale = mask & ~self.frame(kind)["epoch"].isin(complete).to_numpy()
            if stale.any():
                self.tables[kind].remove(stale)
        return complete

    def _whole(self, kind: str, mask: np.ndarray | None, n_rows: int) -> set[int]:
        """Epochs at which every member has ``n_rows`` rows among the ``mask`` rows."""
        if mask is None:
            return set()
        counts = self.frame(kind)[mask].groupby(["epoch", "member"]).size()
        whole = counts[counts == n_rows].groupby(level="epoch").size()
        return set(whole[whole == len(self.seeds)].index.astype(int))

    def _mine(self, kind: str) -> np.ndarray:
        """Which rows of table ``kind`` belong to this recording and its members."""
        frame = self.frame(kind)
        missing = {"run", "seed", "member", "epoch"} - set(frame.columns)
        if missing:
            raise InvalidParameterError(
                f"{self.tables[kind].path} is not an information-plane table (no columns "
                f"{sorted(missing)}); pass another path, or delete the file"
            )
        mask = np.ones(len(frame), dtype=bool)
        for column, value in self.key.items():
            mask &= (frame[column] == value).to_numpy() if column in frame else False
        members = np.zeros(len(frame), dtype=bool)
        for member, seed in enumerate(self.seeds):
            same_seed = frame["seed"].isna() if _is_nan(seed) else frame["seed"] == seed
            members |= ((frame["member"] == member) & same_seed).to_numpy()
        return mask & members


def _gradients_path(path: Path | None) -> Path | None:
    return None if path is None else path.with_name(f"{path.stem}_gradients{path.suffix}")


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


class JobTable:
    """The table of a sweep: the rows of each job appended as one committed unit.

    Columns are ``job_index``, the parameters, the jobs' columns in order of first
    appearance, then ``status``, ``error``, ``job_key``; cells are kept as written. Beside
    the CSV, the ledger ``<name>.done`` gets one JSON line per job, ``{"job_index",
    "job_key", "rows"}``, once the job's rows are on disk: a job counts as finished only
    when its line is there and the CSV holds exactly that many of its rows. Without a
    path the rows stay in memory.
    """

    def __init__(self, params: list[str], path: Path | None) -> None:
        if path is not None and path.suffix.lower() != ".csv":
            raise InvalidParameterError(f"path must name a .csv file; got {str(path)!r}")
        self.params = params
        self.path = path
        self.ledger = None if path is None else path.with_name(path.name + ".done")
        self.extra: list[str] = []
        self.rows: list[dict[str, Any]] = []

    @property
    def columns(self) -> list[str]:
        return ["job_index", *self.params, *self.extra, *RESERVED[1:]]

    def resume(self, keys: list[str]) -> set[int]:
        """Indices of the jobs finished in the CSV; every other row is dropped from it.

        ``keys[i]`` is the key of job ``i`` in this sweep. A job is finished when the
        ledger commits it with this key, the CSV holds exactly the committed number of
        its rows, whole, and none is an error.
        """
        if self.path is None:
            return set()
        header, rows, torn = self._read() if self.path.is_file() else ([], [], False)
        if not header:  # no table, or not even its header: start afresh
            for stale in (self.path, self.ledger):
                if stale.exists():
                    check_owners()
                    stale.unlink()
            return set()
        if not {"job_index", "status", "job_key"} <= set(header):
            raise InvalidParameterError(
                f"{self.path} is not a sweep table (no job_index/status/job_key columns); "
                "pass another path or remove the file"
            )
        fixed = set(self.columns)
        self.extra = [c for c in header if c not in fixed]
        committed = self._committed()
        by_job: dict[str, list[dict[str, str]]] = {}
        for row in rows:
            if None not in row and None not in row.values():  # whole: every cell, no more
                by_job.setdefault(row["job_index"], []).append(row)
        finished = {}
        for index, key in enumerate(keys):
            mine = by_job.get(str(index), [])
            if (
                mine
                and committed.get((index, key)) == len(mine)
                and all(r["job_key"] == key and r["status"] == "ok" for r in mine)
            ):
                finished[index] = mine
        keep = [row for index in sorted(finished) for row in finished[index]]
        if torn or keep != rows or header != self.columns:
            self._write(keep)
        if set(committed) != {(i, keys[i]) for i in finished}:
            self._write_ledger({i: (keys[i], len(finished[i])) for i in sorted(finished)})
        return set(finished)

    def add(self, index: int, key: str, rows: list[dict[str, Any]]) -> None:
        """Append the rows of job ``index`` and commit them."""
        known = set(self.columns)
        new = list(dict.fromkeys(c for row in rows for c in row if c not in known))
        self.extra.extend(new)
        if self.path is None:
            self.rows.extend(rows)
            return
        if new or not self.path.is_file():
            self._write(self._read()[1] if self.path.is_file() else [])
        text = io.StringIO()
        csv.DictWriter(text, self.columns, restval="").writerows(
            {k: _text(v) for k, v in row.items()} for row in rows
        )
        _append(self.path, text.getvalue())
        _append(self.ledger, _ledger_line(index, key, len(rows)))

    def finish(self) -> Any:
        """The table as a DataFrame, rows by job (a job's rows in their order).

        With a path the CSV is rewritten in that order and read back.
        """
        import pandas as pd

        if self.path is None:
            rows = sorted(self.rows, key=lambda r: r["job_index"])
            return pd.DataFrame(rows, columns=self.columns)
        self._write(sorted(self._read()[1], key=lambda r: int(r["job_index"])))
        return pd.read_csv(self.path, dtype={"job_key": str, "error": str, "status": str})

    def _read(self) -> tuple[list[str], list[dict[str, str]], bool]:
        """Header, rows and whether a torn last line was dropped."""
        data, torn = _intact(self.path)
        try:
            reader = csv.DictReader(io.StringIO(data.decode()))
            rows = list(reader)
        except (UnicodeDecodeError, csv.Error) as exc:
            raise _unreadable(self.path, exc) from None
        return list(reader.fieldnames or []), rows, torn

    def _write(self, rows: list[dict[str, str]]) -> None:
        """Replace the CSV atomically by ``rows`` under the current header."""
        with atomic_write(self.path) as handle:
            writer = csv.DictWriter(handle, self.columns, restval="")
            writer.writeheader()
            writer.writerows(rows)

    def _committed(self) -> dict[tuple[int, str], int]:
        """(job index, key) -> rows, from the ledger's whole lines."""
        if not self.ledger.is_file():
            return {}
        committed = {}
        for line in _intact(self.ledger)[0].decode(errors="replace").splitlines():
            with contextlib.suppress(ValueError, KeyError, TypeError):
                entry = json.loads(line)
                committed[(int(entry["job_index"]), str(entry["job_key"]))] = int(entry["rows"])
        return committed

    def _write_ledger(self, jobs: dict[int, tuple[str, int]]) -> None:
        with atomic_write(self.ledger) as handle:
            handle.writelines(_ledger_line(i, key, n) for i, (key, n) in jobs.items())


def _ledger_line(index: int, key: str, rows: int) -> str:
    return json.dumps({"job_index": index, "job_key": key, "rows": rows}) + "\n"


def _text(value: Any) -> str:
    """A cell as CSV text (floats in their shortest exact form)."""
    if value is None:
        return ""
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return str(value)

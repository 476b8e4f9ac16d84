"""Jobs for the sweep tests that run in other processes: importable without torch."""

import time
from pathlib import Path


def rows_job(*, random_state, n_rows, tag):
    """``n_rows`` rows of draws from the job's stream (``tag`` tells the jobs apart)."""
    return [{"row": r, "tag": tag, "draw": random_state.random()} for r in range(n_rows)]


def gated_job(*, random_state, n_rows, tag, gate, open_below):
    """``rows_job``; the jobs with ``tag >= open_below`` first wait for the file ``gate``.

    A sweep of them stops mid-run, however fast the machine, until the gate is made.
    """
    while tag >= open_below and not Path(gate).exists():
        time.sleep(0.01)
    return rows_job(random_state=random_state, n_rows=n_rows, tag=tag)

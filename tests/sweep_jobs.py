"""Jobs for the sweep tests that run in other processes: importable without torch."""

import time

from ibkit.sweep import expand_grid


def rows_job(*, random_state, n_rows, tag, pause=0.0):
    """``n_rows`` rows of draws from the job's stream (``tag`` tells the jobs apart)."""
    time.sleep(pause)
    return [{"row": r, "tag": tag, "draw": random_state.random()} for r in range(n_rows)]


#: Jobs slow enough to be killed in the middle of the sweep.
SLOW_GRID = expand_grid({"tag": list(range(24))}, {"n_rows": 30, "pause": 0.05})

r"""Which training epochs to record: every epoch, log-spaced epochs, a list, or a rule.

Information-plane studies log many early epochs and few late ones, because the
trajectory moves fast at the start of training. Shwartz-Ziv & Tishby (2017) logged
about 200 log-spaced epochs out of 10,000. :func:`log_spaced_epochs` returns exactly
``min(n_points, n_epochs)`` distinct epochs, always including the first and the last:
with :math:`k` points and :math:`g_i = n^{i/(k-1)} - 1`,

.. math::

    e_i = i + \max_{j \le i} \big(\operatorname{round}(g_j) - j\big),

which is :math:`\operatorname{round}(g_i)` where the geometric grid is coarser than one
epoch and steps of one epoch where it is finer (there rounding would merge points).

References
----------
R. Shwartz-Ziv and N. Tishby, "Opening the black box of deep neural networks via
information", arXiv:1703.00810, 2017.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ibkit._validation import InvalidParameterError, check_int

__all__ = ["EpochSchedule", "log_spaced_epochs"]


def log_spaced_epochs(n_epochs: int, n_points: int = 200) -> np.ndarray:
    """``min(n_points, n_epochs)`` distinct, increasing, log-spaced epochs in 0..n_epochs−1.

    Parameters
    ----------
    n_epochs : int
        Number of training epochs (≥ 1); epochs are numbered 0..n_epochs−1.
    n_points : int, default 200
        Number of epochs wanted (≥ 2); all epochs when ``n_points >= n_epochs``.

    Returns
    -------
    ndarray of int64
        Starts at 0 and ends at ``n_epochs - 1``.

    Examples
    --------
    >>> log_spaced_epochs(1000, 8).tolist()
    [0, 2, 6, 18, 51, 138, 372, 999]
    """
    n_epochs = check_int(n_epochs, "n_epochs")
    n_points = check_int(n_points, "n_points", minimum=2)
    k = min(n_points, n_epochs)
    if k == 1:
        return np.zeros(1, dtype=np.int64)
    i = np.arange(k)
    g = np.rint(np.float_power(n_epochs, i / (k - 1)) - 1.0).astype(np.int64)
    return np.maximum.accumulate(g - i) + i


class EpochSchedule:
    """A rule saying which epochs are recorded.

    Parameters
    ----------
    schedule : None, "log", iterable of int, callable or EpochSchedule
        ``None``: every epoch. ``"log"``: :func:`log_spaced_epochs` (needs ``n_epochs``).
        An iterable of epoch numbers (≥ 0). A callable ``epoch -> bool``.
    n_epochs : int, optional
        Number of training epochs; when given, an epoch past ``n_epochs - 1`` (in the
        list or asked about later) is an error.
    n_points : int, default 200
        Number of epochs of the ``"log"`` schedule.

    Examples
    --------
    >>> s = EpochSchedule("log", n_epochs=100, n_points=5)
    >>> [e for e in range(100) if s(e)]
    [0, 2, 9, 31, 99]
    >>> EpochSchedule([0, 5])(5), EpochSchedule(lambda e: e % 2 == 0)(3)
    (True, False)
    """

    def __init__(
        self,
        schedule: Any = None,
        *,
        n_epochs: int | None = None,
        n_points: int = 200,
    ) -> None:
        self.n_epochs = None if n_epochs is None else check_int(n_epochs, "n_epochs")
        self.epochs: frozenset[int] | None = None
        self._rule: Callable[[int], Any] | None = None
        if isinstance(schedule, EpochSchedule):
            self.epochs, self._rule = schedule.epochs, schedule._rule
            self.n_epochs = self.n_epochs if n_epochs is not None else schedule.n_epochs
        elif isinstance(schedule, str):
            if schedule != "log":
                raise InvalidParameterError(
                    "schedule must be None, 'log', a list of epochs or a callable; "
                    f"got {schedule!r}"
                )
            if self.n_epochs is None:
                raise InvalidParameterError(
                    "schedule='log' needs n_epochs, the number of training epochs"
                )
            self.epochs = frozenset(log_spaced_epochs(self.n_epochs, n_points).tolist())
        elif callable(schedule):
            self._rule = schedule
        elif schedule is not None:
            self.epochs = frozenset(_check_epoch_list(schedule))
        if self.epochs is not None and self.n_epochs is not None:
            late = sorted(e for e in self.epochs if e >= self.n_epochs)
            if late:
                raise InvalidParameterError(
                    f"schedule has epochs past the last one ({self.n_epochs - 1}, as "
                    f"n_epochs={self.n_epochs}): {late[:5]}; drop them or raise n_epochs"
                )

    def __call__(self, epoch: int) -> bool:
        """Whether ``epoch`` is recorded; raises ``ValueError`` for a bad epoch number."""
        epoch = check_epoch(epoch)
        if self.n_epochs is not None and epoch >= self.n_epochs:
            raise InvalidParameterError(
                f"epoch {epoch} is past the last epoch ({self.n_epochs - 1}, as "
                f"n_epochs={self.n_epochs}); number epochs 0..n_epochs-1"
            )
        if self.epochs is not None:
            return epoch in self.epochs
        return True if self._rule is None else bool(self._rule(epoch))

    def __repr__(self) -> str:
        what = (
            "every epoch"
            if self.epochs is None and self._rule is None
            else f"{len(self.epochs)} epochs"
            if self.epochs is not None
            else "a rule"
        )
        return f"EpochSchedule({what}, n_epochs={self.n_epochs})"


def check_epoch(epoch: Any) -> int:
    """Return ``epoch`` as an int if it is an integer ≥ 0, else raise ``ValueError``."""
    return check_int(epoch, "epoch", minimum=0)


def _check_epoch_list(schedule: Any) -> list[int]:
    if not isinstance(schedule, Iterable):
        raise InvalidParameterError(
            "schedule must be None, 'log', a list of epochs or a callable epoch -> bool; "
            f"got {type(schedule).__name__}"
        )
    values = list(np.asarray(list(schedule)).reshape(-1).tolist())
    bad = [v for v in values if isinstance(v, bool) or not isinstance(v, int) or v < 0]
    if bad:
        raise InvalidParameterError(f"schedule epochs must be integers >= 0; got {bad[:5]}")
    return values

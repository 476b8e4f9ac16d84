r"""Datasets of the classic information-plane studies, as exact discrete distributions.

The 12-bit task of Shwartz-Ziv & Tishby (2017) is generated here from its rule, so
no data file is needed. Its inputs are all :math:`2^{12} = 4096` binary patterns
:math:`x \in \{0, 1\}^{12}`, in counting order (row :math:`r` is the binary
representation of :math:`r`, most significant bit first). The 12 bit positions are the
vertices of an icosahedron, and the label counts active pairs of vertices:

.. math::

    w = \sum_i x_i, \qquad
    n_\text{adj} = \sum_{\{i,j\} \in E} x_i x_j, \qquad
    n_\text{anti} = \sum_{\{i,j\} \in A} x_i x_j, \qquad
    n_\text{other} = \binom{w}{2} - n_\text{adj} - n_\text{anti},

where :math:`E` are the 30 edges and :math:`A` the 6 antipodal pairs of the
icosahedron (the remaining 30 pairs lie at graph distance 2). The label is the linear
threshold

.. math::

    y = \mathbb{1}\left[\, 23\,w + n_\text{adj} - 5\,n_\text{other} - 8\,n_\text{anti}
        \ge 99 \,\right],

which reproduces all 4096 labels of the authors' ``var_u.mat`` exactly (2118 ones,
:math:`I(X;Y) = H(Y) = 0.99916` bits). The coefficients come from an exhaustive
search over integer weights of magnitude at most 30 against the 64 distinct count
triples :math:`(w, n_\text{adj}, n_\text{anti})` of that file: only three weight vectors
separate them, and this one has the smallest coefficients. Substituting
:math:`n_\text{other}` gives the equivalent form
:math:`3\,(2 n_\text{adj} - n_\text{anti}) \ge 99 - 23 w + 5\binom{w}{2}`:
a pattern is labelled 1 when its active vertices are clustered on the sphere (many
neighbouring pairs, few antipodal ones) beyond a threshold set by its weight. Weights
0–4 are always 0, weights 8–12 always 1.

References
----------
R. Shwartz-Ziv and N. Tishby, "Opening the black box of deep neural networks via
information", arXiv:1703.00810, 2017.

A. M. Saxe et al., "On the information bottleneck theory of deep learning", ICLR 2018.

Examples
--------
>>> from ibkit.datasets import tishby_12bit
>>> from ibkit.measures import mutual_information
>>> task = tishby_12bit()
>>> task.x.shape, int(task.y.sum())
((4096, 12), 2118)
>>> round(mutual_information(task.p_xy), 5)
0.99916
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ibkit._plain import plain
from ibkit._validation import InvalidParameterError, check_array, check_positive

__all__ = ["DiscreteTask", "load_var_u", "tishby_12bit"]

#: Neighbours of each vertex of the icosahedron, indexed by bit position (0-based
#: column of ``x``, most significant bit first). This labelling is the one of the
#: authors' ``var_u.mat``: it was read off that file's labels, which depend only on how
#: many active pairs fall in each of the three pair classes of these vertices. The test
#: suite checks that it is the icosahedron graph (5-regular, 30 edges, every
#: neighbourhood a 5-cycle, a unique vertex at distance 3 from each vertex).
ICOSAHEDRON_NEIGHBORS: tuple[tuple[int, ...], ...] = (
    (1, 3, 5, 10, 11),
    (0, 2, 3, 4, 11),
    (1, 3, 4, 8, 9),
    (0, 1, 2, 8, 10),
    (1, 2, 6, 9, 11),
    (0, 6, 7, 10, 11),
    (4, 5, 7, 9, 11),
    (5, 6, 8, 9, 10),
    (2, 3, 7, 9, 10),
    (2, 4, 6, 7, 8),
    (0, 3, 5, 7, 8),
    (0, 1, 4, 5, 6),
)

#: The 6 antipodal pairs: each vertex and the one vertex at graph distance 3 from it.
ICOSAHEDRON_ANTIPODES: tuple[tuple[int, int], ...] = (
    (0, 9),
    (1, 7),
    (2, 5),
    (3, 6),
    (4, 10),
    (8, 11),
)


@dataclass(frozen=True, eq=False)
class DiscreteTask:
    r"""A binary classification task over a finite input set with uniform p(x).

    Each row of ``x`` is one input value with probability :math:`1/n`. Labels are
    flipped with probability :math:`\varepsilon` = ``label_noise``, so
    :math:`p(y = y_i \mid x_i) = 1 - \varepsilon` and
    :math:`H(Y \mid X) = h_2(\varepsilon)`.

    Attributes
    ----------
    x : ndarray of float64, shape (n, d)
        The inputs, one per row (network inputs for the 12-bit task: 0/1 bits).
    y : ndarray of int64, shape (n,)
        The noise-free labels, 0 or 1.
    name : str
        A short name of the task.
    label_noise : float
        Label flip probability :math:`\varepsilon \in [0, 0.5]`.
    """

    x: np.ndarray
    y: np.ndarray
    name: str = ""
    label_noise: float = 0.0

    def __post_init__(self) -> None:
        x = check_array(self.x, "x", ndim=2)
        y = check_array(self.y, "y", ndim=1)
        if y.shape[0] != x.shape[0]:
            raise InvalidParameterError(
                f"x and y must have one label per row; got {x.shape[0]} rows of x "
                f"and {y.shape[0]} labels"
            )
        bad = ~np.isin(y, (0, 1))
        if bad.any():
            raise InvalidParameterError(
                f"y must hold labels 0 and 1; found values {np.unique(y[bad]).tolist()}"
            )
        eps = check_positive(self.label_noise, "label_noise", allow_zero=True)
        if eps > 0.5:
            raise InvalidParameterError(
                f"label_noise must be a finite number in [0, 0.5]; got {self.label_noise!r}"
            )
        object.__setattr__(self, "x", x)
        object.__setattr__(self, "y", y.astype(np.int64))
        object.__setattr__(self, "label_noise", eps)

    @property
    def p_xy(self) -> np.ndarray:
        """The joint p(x, y), shape (n, 2): p(x) = 1/n, label flipped with ``label_noise``."""
        n = self.y.shape[0]
        p = np.full((n, 2), self.label_noise / n)
        p[np.arange(n), self.y] = (1.0 - self.label_noise) / n
        return p

    def to_dict(self) -> dict[str, Any]:
        """All fields as plain Python values (arrays as nested lists)."""
        return plain(asdict(self))


def _active_pairs(bits: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """Number of ``pairs`` (shape (m, 2)) with both bits set, for each row of ``bits``."""
    return (bits[:, pairs[:, 0]] & bits[:, pairs[:, 1]]).sum(axis=1)


def tishby_12bit(label_noise: float = 0.0) -> DiscreteTask:
    r"""The 12-bit task of Shwartz-Ziv & Tishby (2017), generated from its rule.

    Parameters
    ----------
    label_noise : float
        Label flip probability :math:`\varepsilon \in [0, 0.5]` used by
        :attr:`DiscreteTask.p_xy`; the stored labels ``y`` stay noise-free.

    Returns
    -------
    DiscreteTask
        ``x``: all 4096 patterns in counting order as 0/1 floats, shape (4096, 12);
        ``y``: :math:`\mathbb{1}[23 w + n_\text{adj} - 5 n_\text{other} - 8 n_\text{anti}
        \ge 99]`, as in the module documentation.

    Examples
    --------
    >>> task = tishby_12bit(label_noise=0.1)
    >>> task.x[5]
    array([0., 0., 0., 0., 0., 0., 0., 0., 0., 1., 0., 1.])
    >>> task.p_xy.shape, float(task.p_xy.sum())
    ((4096, 2), 1.0)
    """
    bits = (np.arange(4096)[:, None] >> np.arange(11, -1, -1)) & 1
    edges = np.array(
        [(i, j) for i, nbrs in enumerate(ICOSAHEDRON_NEIGHBORS) for j in nbrs if i < j]
    )
    w = bits.sum(axis=1)
    n_adj = _active_pairs(bits, edges)
    n_anti = _active_pairs(bits, np.array(ICOSAHEDRON_ANTIPODES))
    n_other = w * (w - 1) // 2 - n_adj - n_anti
    y = 23 * w + n_adj - 5 * n_other - 8 * n_anti >= 99
    return DiscreteTask(bits.astype(np.float64), y, "tishby_12bit", label_noise)


def load_var_u(path: str | os.PathLike[str], *, label_noise: float = 0.0) -> DiscreteTask:
    """Load a task from a MATLAB file laid out like Shwartz-Ziv & Tishby's ``var_u.mat``.

    Parameters
    ----------
    path : str or path-like
        A ``.mat`` file with variables ``F`` (n × d inputs) and ``y`` (1 × n or n × 1
        labels, 0 or 1).
    label_noise : float
        Label flip probability in [0, 0.5], as in :func:`tishby_12bit`.

    Returns
    -------
    DiscreteTask
        Named after the file's stem; ``x`` is ``F`` as float64, ``y`` the flattened labels.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is not a MATLAB file, lacks ``F`` or ``y``, the shapes disagree, or
        the labels are not 0/1.
    """
    from scipy.io import loadmat
    from scipy.io.matlab import MatReadError

    path = os.fspath(path)
    try:
        data = loadmat(path)
    except MatReadError as exc:
        raise InvalidParameterError(f"{path!r} is not a readable MATLAB .mat file: {exc}") from None
    found = sorted(k for k in data if not k.startswith("__"))
    if not {"F", "y"} <= set(found):
        raise InvalidParameterError(f"{path!r}: expected variables 'F' and 'y'; found {found}")
    x, y = data["F"], data["y"]
    if y.size != x.shape[0] or 1 not in y.shape:
        raise InvalidParameterError(
            f"{path!r}: y must be a 1 x n or n x 1 vector with n = {x.shape[0]} "
            f"(the rows of F); got shape {y.shape}"
        )
    name = os.path.splitext(os.path.basename(path))[0]
    return DiscreteTask(x, y.ravel(), name, label_noise)

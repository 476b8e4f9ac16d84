"""The few array operations whose spelling differs between numpy and torch.

The pairwise estimators write their formulas once, against an array namespace ``xp``:
:func:`namespace` gives numpy for numpy arrays and, for a torch tensor, an adapter that
works on the tensor's device. Everything numpy and torch spell alike (``@``,
``xp.exp(a, out=a)``, ``xp.clip``, ``xp.square``, ``xp.einsum``, ``xp.hstack``,
``xp.matmul``) is called directly; the adapters below cover the rest. torch is imported
only when a tensor is seen.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: Rows up to this many columns are keyed by vectorised arithmetic on their bits; wider
#: ones by hashing their bytes row by row (no widened copy of a conv layer).
_VECTOR_KEY_WIDTH = 64
#: Random 64-bit offsets of the vectorised row keys, one per column (so that equal values
#: in different columns key differently).
_KEY_OFFSETS = np.random.default_rng(20261207).integers(
    0, 2**63, size=_VECTOR_KEY_WIDTH, dtype=np.uint64
)
#: Bytes of rows compared at a time when checking the keyed groups.
_CHECK_BLOCK_BYTES = 1 << 24

__all__ = ["is_tensor", "namespace", "to_numpy"]


def is_tensor(a: Any) -> bool:
    """Whether ``a`` is a torch tensor (answered without importing torch)."""
    return type(a).__module__.startswith("torch")


def to_numpy(a: Any) -> np.ndarray:
    """A tensor's values as a numpy array on the host; anything else unchanged."""
    return a.detach().cpu().numpy() if is_tensor(a) else a


def _row_keys(a: np.ndarray) -> np.ndarray:
    """One 64-bit integer per row of the C-contiguous ``a``, equal for equal rows.

    Narrow rows: each entry's bits, plus a random offset per column, scrambled by
    the splitmix64 finaliser (so that a sign or exponent bit moves every bit of the
    result), summed over the row modulo :math:`2^{64}`; a zero is keyed as +0.0, so signed
    zeros group together. Wide rows: Python's hash of the row's bytes, which keeps -0.0
    and +0.0 apart (two groups of equal rows, still exact for the estimators). Different
    rows share a key with probability about :math:`2^{-64}` per pair;
    :meth:`_Numpy.unique_rows` checks.
    """
    if a.shape[1] > _VECTOR_KEY_WIDTH:
        return np.fromiter((hash(row.tobytes()) for row in a), np.int64, a.shape[0])
    z = (a + 0.0).view(np.dtype(f"u{a.itemsize}")).astype(np.uint64)
    z += _KEY_OFFSETS[: a.shape[1]]
    for shift, factor in ((30, 0xBF58476D1CE4E5B9), (27, 0x94D049BB133111EB)):
        z ^= z >> np.uint64(shift)
        z *= np.uint64(factor)
    z ^= z >> np.uint64(31)
    return z.sum(axis=1)


class _Numpy:
    """numpy itself, plus the operations that torch spells differently."""

    def __getattr__(self, name: str) -> Any:
        return getattr(np, name)

    @staticmethod
    def unique_rows(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Distinct rows, the row of each input row, and the counts.

        Rows are grouped by a 64-bit key (:func:`_row_keys`), in the order of their first
        appearance, and each row is then checked equal to its group's first in blocks.
        Sorting the rows themselves (``np.unique(axis=0)``) compares them field by field,
        several times slower on narrow rows, and copies wide ones several times over
        (four copies of a conv layer, 1.5 GB at 2000 × 25,088 float64); the grouping
        sorts one integer per row. A key collision between different rows, never seen
        in practice, falls back to the sort.
        """
        a = np.ascontiguousarray(a)
        _, first, inverse, counts = np.unique(
            _row_keys(a), return_index=True, return_inverse=True, return_counts=True
        )
        inverse = inverse.reshape(-1)
        order = np.argsort(first, kind="stable")  # groups by first appearance
        rank = np.empty_like(order)
        rank[order] = np.arange(order.size)
        values, inverse, counts = a[first[order]], rank[inverse], counts[order]
        block = max(1, _CHECK_BLOCK_BYTES // max(1, a.itemsize * a.shape[1]))
        for start in range(0, a.shape[0], block):
            rows = slice(start, start + block)
            if not np.array_equal(a[rows], values[inverse[rows]]):
                values, inverse, counts = np.unique(
                    a, axis=0, return_inverse=True, return_counts=True
                )
                return values, inverse.reshape(-1), counts
        return values, inverse, counts

    @staticmethod
    def scaled_matmul(a: np.ndarray, b: np.ndarray, scale: float, out: Any = None) -> np.ndarray:
        """``scale * (a @ b)``, into ``out`` if given."""
        out = np.matmul(a, b, out=out)
        if scale != 1.0:
            out *= scale
        return out

    @staticmethod
    def distinct_codes(a: np.ndarray) -> np.ndarray:
        """Codes 0..k−1 of the entries of the 1-D ``a``, in the order of their values."""
        return np.unique(a, return_inverse=True)[1].reshape(-1)

    @staticmethod
    def ldexp(a: np.ndarray, exponent: int) -> np.ndarray:
        return np.ldexp(a, exponent)

    @staticmethod
    def row_max(a: np.ndarray) -> np.ndarray:
        """The largest entry of each row."""
        return a.max(axis=1)

    @staticmethod
    def var0(a: np.ndarray) -> np.ndarray:
        """Column variances (divided by ``n``)."""
        return a.var(axis=0)

    @staticmethod
    def astype(a: np.ndarray, dtype: type) -> np.ndarray:
        """``a`` in ``dtype``: a copy only where the dtype changes."""
        return a.astype(dtype, copy=False)

    @staticmethod
    def transposed(a: np.ndarray) -> np.ndarray:
        """``a.T``, a view: BLAS reads a transposed operand as it is, without a copy."""
        return a.T

    @staticmethod
    def empty(size: int, like: np.ndarray) -> np.ndarray:
        """An uninitialised 1-D buffer of the dtype (and device) of ``like``."""
        return np.empty(size, dtype=like.dtype)

    @staticmethod
    def zeros(shape: tuple[int, ...]) -> np.ndarray:
        """float64 zeros."""
        return np.zeros(shape)

    @staticmethod
    def fill_diagonal(a: np.ndarray, value: float) -> None:
        np.fill_diagonal(a, value)

    @staticmethod
    def distances(a: np.ndarray) -> np.ndarray:
        """Euclidean distances between the rows, from their differences."""
        from scipy.spatial.distance import pdist, squareform

        return squareform(pdist(a))

    @staticmethod
    def kth_smallest(a: np.ndarray, k: int) -> np.ndarray:
        """The ``k``-th smallest entry of each row (``k = 0``: the smallest)."""
        return np.partition(a, k, axis=1)[:, k]

    @staticmethod
    def eigvalsh(a: np.ndarray) -> np.ndarray:
        """Eigenvalues of a symmetric matrix, on the host."""
        from scipy.linalg import eigvalsh

        return eigvalsh(a, check_finite=False)

    @staticmethod
    def from_host(a: np.ndarray) -> np.ndarray:
        """A host array where the work is done (the tensor's device, for torch)."""
        return a


class _Torch:
    """torch on one device, spelt as :class:`_Numpy`; numpy dtypes name torch's."""

    def __init__(self, device: Any) -> None:
        import torch

        self.torch = torch
        self.device = device

    def __getattr__(self, name: str) -> Any:
        return getattr(self.torch, name)

    def dtype(self, dtype: type) -> Any:
        """The torch dtype of a numpy dtype."""
        return getattr(self.torch, np.dtype(dtype).name)

    def unique_rows(self, a: Any) -> tuple[Any, Any, Any]:
        return self.torch.unique(a, dim=0, return_inverse=True, return_counts=True)

    @staticmethod
    def scaled_matmul(a: Any, b: Any, scale: float, out: Any = None) -> Any:
        """The scale is applied by the product itself (``addmm``'s ``alpha``)."""
        if out is None:
            out = a.new_empty((a.shape[0], b.shape[1]))
        return out.addmm_(a, b, beta=0, alpha=scale)

    def distinct_codes(self, a: Any) -> Any:
        return self.torch.unique(a, return_inverse=True)[1]

    def ldexp(self, a: Any, exponent: int) -> Any:
        return self.torch.ldexp(a, self.torch.tensor(exponent, device=a.device))

    @staticmethod
    def row_max(a: Any) -> Any:
        return a.amax(dim=1)

    @staticmethod
    def var0(a: Any) -> Any:
        return a.var(dim=0, correction=0)

    def astype(self, a: Any, dtype: type) -> Any:
        return a.to(self.dtype(dtype))

    @staticmethod
    def transposed(a: Any) -> Any:
        return a.T.contiguous()

    @staticmethod
    def empty(size: int, like: Any) -> Any:
        return like.new_empty(size)

    def zeros(self, shape: tuple[int, ...]) -> Any:
        return self.torch.zeros(shape, dtype=self.torch.float64, device=self.device)

    @staticmethod
    def fill_diagonal(a: Any, value: float) -> None:
        a.fill_diagonal_(value)

    def distances(self, a: Any) -> Any:
        return self.torch.cdist(a, a, compute_mode="donot_use_mm_for_euclid_dist")

    @staticmethod
    def kth_smallest(a: Any, k: int) -> Any:
        return a.kthvalue(k + 1, dim=1).values

    def eigvalsh(self, a: Any) -> np.ndarray:
        return self.torch.linalg.eigvalsh(a).cpu().numpy()

    def from_host(self, a: np.ndarray) -> Any:
        return self.torch.from_numpy(np.ascontiguousarray(a)).to(self.device)


def namespace(a: Any) -> Any:
    """numpy for an array, a torch adapter on the tensor's device for a tensor."""
    return _Torch(a.device) if is_tensor(a) else _Numpy()

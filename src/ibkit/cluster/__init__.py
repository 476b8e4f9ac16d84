"""Information Bottleneck clustering as scikit-learn estimators.

Rows of ``X`` are the items to cluster and columns the values of the relevant
variable Y (terms, features), so p(x, y) ∝ X; dense arrays and ``scipy.sparse``
count matrices are accepted.

- :class:`SequentialIB`: sequential IB (Slonim, Friedman & Tishby 2002), hard clusters
  maximising I(T;Y), for large sparse corpora.
- :class:`AgglomerativeIB`: bottom-up merging (Slonim & Tishby 1999).
- :class:`DeterministicIB`: the deterministic IB (Strouse & Schwab 2017).
- :class:`InformationBottleneck`: the soft IB encoder, with ``predict_proba``.

Each has ``fit``, ``predict``, ``transform`` (D_KL[p(y|x) ‖ p(y|t)] in bits),
``fit_predict`` and reports ``labels_``, ``i_xt_``, ``i_ty_``, ``i_xy_`` (bits),
``n_iter_`` and ``objective_``. Needs scikit-learn (1.6 or later); ``SequentialIB``
also numba (both in the ``cluster`` extra).
"""

from ibkit._validation import optional_module

optional_module("sklearn", "ibkit.cluster", "cluster")

from ibkit.cluster.estimators import (  # noqa: E402
    AgglomerativeIB,
    DeterministicIB,
    InformationBottleneck,
)
from ibkit.cluster.sequential import SequentialIB  # noqa: E402

__all__ = ["AgglomerativeIB", "DeterministicIB", "InformationBottleneck", "SequentialIB"]

"""Sequential IB clustering: ibkit's ``SequentialIB`` against sib-clustering's ``SIB``.

Run with ``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_cluster.py [--quick]``.

The corpus has planted topics: topic k's term distribution is
p_k = (1 − s)·b + s·d_k with a shared background b ~ Dirichlet(1), a topic-specific
d_k ~ Dirichlet(0.05) and s = 0.3; document i belongs to topic i mod K and its counts
are Poisson(L·p_k) with L = 60 (about 55 distinct terms per document). Full size:
2000 documents × 5000 terms, 20 topics; ``--quick``: 500 × 2000, 10 topics.

Both tools run the same number of restarts (``--n-init``, 10) with their own defaults
otherwise, which agree on when a restart stops (after a sweep that moved at most 2 % of
the documents, or after 15 sweeps), on one process and on all cores (``n_jobs=-1``;
``--quick`` runs one process only). They differ in the prior p(x): ibkit takes p(x, y) ∝
counts (long documents weigh more), sib-clustering's default ``uniform_prior=True``
gives every document the same weight. Each tool is therefore also run with the other's
prior: ibkit on row-normalised counts (uniform p(x)), sib-clustering with
``uniform_prior=False``. Reported: adjusted mutual information (AMI) with the planted
topics, seconds (best of ``--repeats``), the time ratio to ibkit with the same prior and
``n_jobs``, and I(T;Y) in bits of each partition under p(x, y) ∝ counts, computed the
same way for every tool. sib-clustering is installed with the ``bench`` extra; if it is
missing its rows say so.

Then, on all cores, each tool and prior over ``--seeds`` random states (10; ``--quick``:
3): the mean, spread and range of the AMI, and the mean I(T;Y), so that a difference of
one seed can be read against the spread of the seeds.

Results go to ``benchmarks/results/cluster.json``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from report import default_repeats, finish, print_markdown, quick_parser, show_table, versions
from scipy import sparse
from sklearn.metrics import adjusted_mutual_info_score

from ibkit.cluster import SequentialIB
from ibkit.measures import mutual_information

RESULTS = Path(__file__).resolve().parent / "results" / "cluster.json"

FULL = {"n_docs": 2000, "n_terms": 5000, "n_topics": 20}
QUICK = {"n_docs": 500, "n_terms": 2000, "n_topics": 10}
LENGTH = 60
TOPIC_SHARE = 0.3
TOPIC_CONCENTRATION = 0.05


def corpus(
    n_docs: int, n_terms: int, n_topics: int, seed: int = 0
) -> tuple[sparse.csr_matrix, np.ndarray]:
    """Poisson term counts of documents with planted topics, and the topic of each."""
    rng = np.random.default_rng(seed)
    background = rng.dirichlet(np.ones(n_terms))
    topics = rng.dirichlet(np.full(n_terms, TOPIC_CONCENTRATION), size=n_topics)
    mix = (1 - TOPIC_SHARE) * background + TOPIC_SHARE * topics
    truth = np.arange(n_docs) % n_topics
    counts = rng.poisson(LENGTH * mix[truth]).astype(np.float64)
    return sparse.csr_matrix(counts), truth


def i_ty_bits(counts: sparse.csr_matrix, labels: np.ndarray) -> float:
    """I(T;Y) in bits of a partition under p(x, y) ∝ counts."""
    k = int(labels.max()) + 1
    one_hot = sparse.csr_matrix(
        (np.ones(labels.size), (labels, np.arange(labels.size))), shape=(k, labels.size)
    )
    return mutual_information((one_hot @ counts).toarray(), normalize=True)


def run_ibkit(
    X: sparse.csr_matrix, k: int, n_init: int, n_jobs: int, uniform: bool, seed: int = 0
) -> Any:
    data = sparse.csr_matrix(X.multiply(1.0 / X.sum(axis=1))) if uniform else X
    return SequentialIB(k, n_init=n_init, n_jobs=n_jobs, random_state=seed).fit(data).labels_


def run_sib(
    X: sparse.csr_matrix, k: int, n_init: int, n_jobs: int, uniform: bool, seed: int = 0
) -> Any:
    from sib import SIB

    sib = SIB(k, n_init=n_init, n_jobs=n_jobs, random_state=seed, uniform_prior=uniform)
    return sib.fit(X).labels_


def sib_installed() -> bool:
    try:
        import sib  # noqa: F401
    except ImportError:
        return False
    return True


def tools() -> list[tuple[str, Any]]:
    return [("ibkit", run_ibkit)] + ([("sib-clustering", run_sib)] if sib_installed() else [])


def measure(
    X: sparse.csr_matrix, truth: np.ndarray, k: int, quick: bool, n_init: int, repeats: int
) -> list[dict[str, Any]]:
    rows = []
    for n_jobs in (1,) if quick else (1, -1):
        for uniform in (False, True):
            for tool, run in tools():
                best, labels = np.inf, None
                for _ in range(repeats):
                    t0 = time.perf_counter()
                    labels = run(X, k, n_init, n_jobs, uniform)
                    best = min(best, time.perf_counter() - t0)
                rows.append(
                    {
                        "tool": tool,
                        "prior": "uniform" if uniform else "counts",
                        "n_jobs": n_jobs,
                        "seconds": best,
                        "ami": adjusted_mutual_info_score(truth, labels),
                        "i_ty_bits": i_ty_bits(X, np.asarray(labels)),
                    }
                )
                print(
                    f"  {tool:<15} p(x) {rows[-1]['prior']:<8} n_jobs {n_jobs:>2}: "
                    f"{best:.2f} s, AMI {rows[-1]['ami']:.3f}",
                    file=sys.stderr,
                )
    if not sib_installed():
        rows.append({"tool": "sib-clustering", "note": "not installed"})
    return rows


def measure_seeds(
    X: sparse.csr_matrix, truth: np.ndarray, k: int, n_init: int, seeds: int
) -> list[dict[str, Any]]:
    """AMI and I(T;Y) of each tool and prior over ``random_state`` 0..seeds−1 (all cores)."""
    rows = []
    for uniform in (False, True):
        for tool, run in tools():
            labels = [np.asarray(run(X, k, n_init, -1, uniform, seed)) for seed in range(seeds)]
            rows.append(
                {
                    "tool": tool,
                    "prior": "uniform" if uniform else "counts",
                    "ami": [adjusted_mutual_info_score(truth, lab) for lab in labels],
                    "i_ty_bits": [i_ty_bits(X, lab) for lab in labels],
                }
            )
            print(
                f"  {tool:<15} p(x) {rows[-1]['prior']:<8} {seeds} seeds: "
                f"mean AMI {np.mean(rows[-1]['ami']):.4f}",
                file=sys.stderr,
            )
    return rows


def seeds_table(rows: list[dict[str, Any]], seeds: int) -> str:
    header = ("tool", "p(x)", "mean AMI", "sd", "min", "max", "mean I(T;Y) bits")
    body = [
        (
            r["tool"],
            "∝ counts" if r["prior"] == "counts" else "uniform",
            f"{np.mean(r['ami']):.4f}",
            f"{np.std(r['ami'], ddof=1):.4f}" if seeds > 1 else "–",
            f"{np.min(r['ami']):.4f}",
            f"{np.max(r['ami']):.4f}",
            f"{np.mean(r['i_ty_bits']):.4f}",
        )
        for r in rows
    ]
    return show_table(
        f"\nThe same corpus over random_state 0..{seeds - 1}, n_jobs=-1", header, body
    )


def table(rows: list[dict[str, Any]], sizes: dict[str, int], n_init: int, i_xy: float) -> str:
    header = ("tool", "p(x)", "n_jobs", "AMI", "seconds", "time / ibkit", "I(T;Y) bits")
    ibkit_time = {(r["prior"], r["n_jobs"]): r["seconds"] for r in rows if r["tool"] == "ibkit"}
    body = []
    for r in rows:
        if "note" in r:
            body.append((r["tool"], "", "", "", r["note"], "", ""))
            continue
        body.append(
            (
                r["tool"],
                "∝ counts" if r["prior"] == "counts" else "uniform",
                str(r["n_jobs"]),
                f"{r['ami']:.3f}",
                f"{r['seconds']:.2f}",
                f"{r['seconds'] / ibkit_time[r['prior'], r['n_jobs']]:.2f}",
                f"{r['i_ty_bits']:.4f}",
            )
        )
    title = (
        f"\nsIB on {sizes['n_docs']} documents × {sizes['n_terms']} terms, "
        f"{sizes['n_topics']} planted topics, n_init={n_init}; I(X;Y) = {i_xy:.4f} bits"
    )
    return show_table(title, header, body)


def main(argv: list[str] | None = None) -> int:
    parser = quick_parser(__doc__.split("\n")[0], RESULTS, "500 × 2000 corpus, one process")
    parser.add_argument("--n-init", type=int, default=10, help="restarts for every tool (10)")
    parser.add_argument("--seeds", type=int, help="random states for the AMI spread (10; quick 3)")
    args = parser.parse_args(argv)
    repeats = default_repeats(args)

    started = time.perf_counter()
    sizes = QUICK if args.quick else FULL
    X, truth = corpus(**sizes)
    i_xy = mutual_information(X.toarray(), normalize=True)
    k = sizes["n_topics"]
    rows = measure(X, truth, k, args.quick, args.n_init, repeats)
    seeds = args.seeds if args.seeds is not None else (3 if args.quick else 10)
    seed_rows = measure_seeds(X, truth, k, args.n_init, seeds)
    total = time.perf_counter() - started
    markdown = "\n\n".join(
        [
            table(rows, sizes, args.n_init, i_xy),
            f"AMI over random_state 0..{seeds - 1} ({args.n_init} restarts each, n_jobs=-1):",
            seeds_table(seed_rows, seeds),
        ]
    )
    print_markdown(markdown)
    finish(
        args.out,
        {
            "quick": args.quick,
            "corpus": {
                **sizes,
                "length": LENGTH,
                "topic_share": TOPIC_SHARE,
                "topic_concentration": TOPIC_CONCENTRATION,
            },
            "n_init": args.n_init,
            "repeats": repeats,
            "i_xy_bits": i_xy,
            "versions": versions(("ibkit", "numpy", "scipy", "scikit-learn", "sib-clustering")),
            "rows": rows,
            "seeds": seeds,
            "seed_rows": seed_rows,
            "markdown": markdown,
        },
        total,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

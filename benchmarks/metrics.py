"""Ranking metrics: nDCG@k, Recall@k and MRR@k, as BEIR reports them.

The numbers come from ``pytrec_eval`` (the trec_eval C code, which BEIR and MTEB use) when it is
installed; otherwise from the small reference implementation below, which the unit tests check
against a worked example and against ``pytrec_eval``. Runs are passed as ranked lists, and scores
given to ``pytrec_eval`` are strictly decreasing by rank so that its tie-breaking (by document id)
never reorders them.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence

Qrels = Mapping[str, Mapping[str, int]]
Run = Mapping[str, Sequence[str]]  # query id -> document ids, best first

METRICS = ("ndcg@10", "recall@10", "recall@100", "mrr@10")


def ndcg_at(ranked: Sequence[str], rel: Mapping[str, int], k: int) -> float:
    """Normalised discounted cumulative gain with linear gains (trec_eval's ndcg_cut)."""
    dcg = sum(rel.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted((g for g in rel.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def recall_at(ranked: Sequence[str], rel: Mapping[str, int], k: int) -> float:
    """Share of the relevant documents found in the top ``k``."""
    relevant = {d for d, g in rel.items() if g > 0}
    return len(relevant & set(ranked[:k])) / len(relevant) if relevant else 0.0


def mrr_at(ranked: Sequence[str], rel: Mapping[str, int], k: int) -> float:
    """Reciprocal rank of the first relevant document within the top ``k``, else 0."""
    for i, d in enumerate(ranked[:k]):
        if rel.get(d, 0) > 0:
            return 1.0 / (i + 1)
    return 0.0


def per_query_reference(qrels: Qrels, run: Run) -> dict[str, dict[str, float]]:
    """Per-query metrics from the reference implementation."""
    out: dict[str, dict[str, float]] = {}
    for qid, rel in qrels.items():
        ranked = list(dict.fromkeys(run.get(qid, ())))
        out[qid] = {
            "ndcg@10": ndcg_at(ranked, rel, 10),
            "recall@10": recall_at(ranked, rel, 10),
            "recall@100": recall_at(ranked, rel, 100),
            "mrr@10": mrr_at(ranked, rel, 10),
        }
    return out


def per_query_trec(qrels: Qrels, run: Run) -> dict[str, dict[str, float]]:
    """Per-query metrics from ``pytrec_eval`` (raises ImportError when it is missing)."""
    import pytrec_eval

    trec_run = {
        q: {d: float(len(docs) - i) for i, d in enumerate(dict.fromkeys(docs))}
        for q, docs in run.items()
        if q in qrels
    }
    trec_run.update({q: {} for q in qrels if q not in trec_run})
    # MRR@10 is reciprocal rank over a run cut at 10 (BEIR does the same).
    top10 = {q: {d: s for d, s in r.items() if s > len(r) - 10} for q, r in trec_run.items()}
    q = {k: dict(v) for k, v in qrels.items()}
    main = pytrec_eval.RelevanceEvaluator(q, {"ndcg_cut.10", "recall.10,100"}).evaluate(trec_run)
    rr = pytrec_eval.RelevanceEvaluator(q, {"recip_rank"}).evaluate(top10)
    out: dict[str, dict[str, float]] = {}
    for qid in qrels:
        m = main.get(qid, {})
        out[qid] = {
            "ndcg@10": float(m.get("ndcg_cut_10", 0.0)),
            "recall@10": float(m.get("recall_10", 0.0)),
            "recall@100": float(m.get("recall_100", 0.0)),
            "mrr@10": float(rr.get(qid, {}).get("recip_rank", 0.0)),
        }
    return out


def per_query(qrels: Qrels, run: Run) -> dict[str, dict[str, float]]:
    """Per-query metrics from ``pytrec_eval`` when installed, else the reference code."""
    try:
        return per_query_trec(qrels, run)
    except ImportError:
        return per_query_reference(qrels, run)


def evaluate(qrels: Qrels, run: Run) -> tuple[dict[str, float], str]:
    """Mean metrics over all judged queries (a query with no results scores 0), and the backend."""
    try:
        per_q, backend = per_query_trec(qrels, run), "pytrec_eval"
    except ImportError:
        per_q, backend = per_query_reference(qrels, run), "reference"
    means = {m: statistics.fmean(v[m] for v in per_q.values()) if per_q else 0.0 for m in METRICS}
    return means, backend


def paired_bootstrap(
    a: Mapping[str, float],
    b: Mapping[str, float],
    *,
    resamples: int = 10_000,
    seed: int = 0,
    confidence: float = 0.95,
) -> tuple[float, float, float]:
    """Mean of ``b - a`` over the queries both score, and its bootstrap confidence interval.

    Queries are resampled with replacement (the same resample for both runs, so the pairing
    is kept) and the interval is the percentile interval of the resampled mean differences.

    Args:
        a: Per-query metric of the baseline (query id -> value).
        b: Per-query metric of the variant.
        resamples: Bootstrap resamples.
        seed: Seed of the resampling (results are reproducible).
        confidence: Coverage of the interval.

    Returns:
        ``(mean difference, low, high)``.

    Raises:
        ValueError: the runs share no query.
    """
    import random

    qids = sorted(set(a) & set(b))
    if not qids:
        raise ValueError("the two runs share no query")
    diffs = [b[q] - a[q] for q in qids]
    n = len(diffs)
    rnd = random.Random(seed)
    means = sorted(sum(diffs[rnd.randrange(n)] for _ in range(n)) / n for _ in range(resamples))
    tail = (1.0 - confidence) / 2
    lo = means[int(tail * (resamples - 1))]
    hi = means[round((1.0 - tail) * (resamples - 1))]
    return statistics.fmean(diffs), lo, hi


def delta_interval(a: Mapping[str, float], b: Mapping[str, float], digits: int = 4) -> list[float]:
    """:func:`paired_bootstrap` of ``b - a`` as ``[mean, low, high]`` rounded to ``digits``, the
    form every result file stores."""
    return [round(x, digits) for x in paired_bootstrap(a, b)]

"""The retrieval-evaluation metrics, checked against a worked example and against trec_eval."""

from __future__ import annotations

import math
import random

import pytest

from benchmarks import metrics
from benchmarks.metrics import mrr_at, ndcg_at, per_query_reference, recall_at

QRELS = {
    "q1": {"d1": 1, "d2": 1, "d3": 1},
    "q2": {"d9": 1},
    "q3": {"d7": 2, "d8": 1},
    "q4": {"d50": 1},
}
RUN = {
    "q1": ["d4", "d1", "d5", "d2"],
    "q2": [],
    "q3": ["d8", "d7"],
    "q4": [f"x{i}" for i in range(49)] + ["d50"],
}


def test_worked_example_by_hand() -> None:
    # q1: relevant at ranks 2 and 4 of three relevant documents.
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    idcg = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert ndcg_at(RUN["q1"], QRELS["q1"], 10) == pytest.approx(dcg / idcg)
    assert ndcg_at(RUN["q1"], QRELS["q1"], 10) == pytest.approx(0.49819, abs=1e-5)
    assert recall_at(RUN["q1"], QRELS["q1"], 10) == pytest.approx(2 / 3)
    assert mrr_at(RUN["q1"], QRELS["q1"], 10) == pytest.approx(0.5)
    # q3: graded judgements, gains are linear (2 for the highly relevant document).
    assert ndcg_at(RUN["q3"], QRELS["q3"], 10) == pytest.approx(
        (1 + 2 / math.log2(3)) / (2 + 1 / math.log2(3))
    )
    # q4: the only relevant document at rank 50 counts for Recall@100, not @10 or MRR@10.
    assert recall_at(RUN["q4"], QRELS["q4"], 10) == 0.0
    assert recall_at(RUN["q4"], QRELS["q4"], 100) == 1.0
    assert mrr_at(RUN["q4"], QRELS["q4"], 10) == 0.0
    assert ndcg_at(RUN["q4"], QRELS["q4"], 10) == 0.0


def test_empty_results_score_zero_and_count_in_the_mean() -> None:
    per_q = per_query_reference(QRELS, RUN)
    assert per_q["q2"] == {"ndcg@10": 0.0, "recall@10": 0.0, "recall@100": 0.0, "mrr@10": 0.0}
    means = {m: sum(v[m] for v in per_q.values()) / 4 for m in metrics.METRICS}
    assert means["mrr@10"] == pytest.approx((0.5 + 0 + 1 + 0) / 4)


def test_duplicates_in_a_run_count_once() -> None:
    per_q = per_query_reference({"q": {"a": 1}}, {"q": ["b", "b", "a"]})
    assert per_q["q"]["mrr@10"] == pytest.approx(0.5)


def test_reference_matches_trec_eval_on_random_runs() -> None:
    pytest.importorskip("pytrec_eval")
    rnd = random.Random(3)
    docs = [f"d{i}" for i in range(300)]
    qrels = {
        f"q{i}": {d: rnd.choice((1, 1, 2)) for d in rnd.sample(docs, rnd.randint(1, 6))}
        for i in range(60)
    }
    run = {q: rnd.sample(docs, rnd.randint(0, 150)) for q in qrels}
    trec = metrics.per_query_trec(qrels, run)
    ref = per_query_reference(qrels, run)
    for q in qrels:
        for m in metrics.METRICS:
            assert trec[q][m] == pytest.approx(ref[q][m], abs=1e-6), (q, m)
    means, backend = metrics.evaluate(qrels, run)
    assert backend == "pytrec_eval"
    assert means["ndcg@10"] == pytest.approx(sum(r["ndcg@10"] for r in ref.values()) / 60)


# -- the roll-up and fusion options the evaluation compares (indexer.search) -----------------


def _hit(doc: str, page: int | None, ordinal: int, score: float):  # type: ignore[no-untyped-def]
    from indexer.store import RawHit

    row = {"chunk_id": f"{doc}:{ordinal}", "doc": doc, "page": page, "text": f"Passage {ordinal}."}
    return RawHit(row, score)


def test_page_rollup_keeps_the_best_passage_of_each_page() -> None:
    from indexer.search import _best_per_page

    hits = [
        _hit("a", 1, 0, 9),
        _hit("a", 1, 1, 8),
        _hit("a", 2, 2, 7),
        _hit("b", None, 0, 6),
        _hit("b", None, 3, 5),
    ]
    assert [h.row["chunk_id"] for h in _best_per_page(hits)] == ["a:0", "a:2", "b:0"]


def test_fusion_contributions() -> None:
    from indexer.search import SearchConfig, _contributions

    hits = [_hit("a", None, 0, 12.0), _hit("b", None, 0, 8.0), _hit("c", None, 0, 2.0)]
    rrf = _contributions(hits, 2.0, SearchConfig(fusion="rrf", rrf_k=60))
    assert rrf == pytest.approx([2 / 61, 2 / 62, 2 / 63])
    score = _contributions(hits, 0.5, SearchConfig(fusion="score"))
    assert score == pytest.approx([0.5, 0.5 * 0.6, 0.0])
    assert _contributions(hits[:1], 0.5, SearchConfig(fusion="score")) == [0.5]


def test_page_grouping_lets_neighbouring_passages_reinforce_each_other() -> None:
    from indexer.search import SearchConfig, fuse

    # Keyword search finds passage 0 of doc a, vector search finds passage 1 of the same page.
    kw = [_hit("b", None, 0, 10.0), _hit("a", None, 0, 9.5), _hit("d", None, 0, 1.0)]
    vec = [_hit("c", None, 0, 0.9), _hit("a", None, 1, 0.85), _hit("e", None, 0, 0.3)]
    for fusion in ("rrf", "score"):
        chunk_cfg = SearchConfig(group="chunk", fusion=fusion)
        by_chunk = [c.row["chunk_id"] for c in fuse(kw, vec, [], chunk_cfg)]
        by_page = [c.row["doc"] for c in fuse(kw, vec, [], SearchConfig(fusion=fusion))]
        assert by_chunk[0] in ("b:0", "c:0"), fusion
        assert by_page[0] == "a", fusion


def test_rrf_fusion_sums_weighted_reciprocal_ranks_and_records_each_rank() -> None:
    from indexer.search import SearchConfig, fuse

    kw = [_hit("a", None, 0, 5.0), _hit("b", None, 0, 4.0)]
    vec = [_hit("b", None, 0, 0.9), _hit("c", None, 0, 0.8)]
    cfg = SearchConfig(group="chunk", fusion="rrf", rrf_k=60, keyword_weight=1.0, vector_weight=2.0)
    got = {c.row["chunk_id"]: c for c in fuse(kw, vec, [], cfg)}
    assert got["b:0"].score == pytest.approx(1 / 62 + 2 / 61)
    assert got["a:0"].score == pytest.approx(1 / 61)
    assert got["c:0"].score == pytest.approx(2 / 62)
    assert (got["b:0"].keyword_rank, got["b:0"].vector_rank) == (2, 1)
    assert got["b:0"].similarity == 0.9
    assert (got["a:0"].keyword_rank, got["a:0"].vector_rank, got["a:0"].similarity) == (
        1,
        None,
        None,
    )
    assert [c.row["chunk_id"] for c in fuse(kw, vec, [], cfg)] == ["b:0", "c:0", "a:0"]


def test_listing_weight_scales_table_of_contents_passages() -> None:
    from indexer.search import SearchConfig, fuse
    from indexer.store import RawHit

    toc = RawHit(
        {
            "chunk_id": "t:0",
            "doc": "t",
            "page": 1,
            "text": "Intro .... 1\nMethods .... 4\nEnd .... 9",
        },
        3.0,
    )
    plain = _hit("p", 1, 0, 2.0)
    cfg = SearchConfig(group="chunk", fusion="rrf", rrf_k=60, listing_weight=0.5)
    got = {c.row["doc"]: c.score for c in fuse([toc, plain], [], [], cfg)}
    kw_w = cfg.keyword_weight
    assert got["t"] == pytest.approx(0.5 * kw_w / 61)
    assert got["p"] == pytest.approx(kw_w / 62)


def test_paired_bootstrap_identical_runs_give_zero_interval() -> None:
    from benchmarks.metrics import paired_bootstrap

    run = {f"q{i}": (i % 7) / 7 for i in range(50)}
    assert paired_bootstrap(run, dict(run), resamples=2000) == (0.0, 0.0, 0.0)


def test_paired_bootstrap_known_difference_excludes_zero() -> None:
    from benchmarks.metrics import paired_bootstrap

    base = {f"q{i}": (i % 5) / 5 for i in range(200)}
    # Better on every query by 0.1, plus per-query noise that cancels in the mean.
    better = {q: v + 0.1 + (0.05 if i % 2 else -0.05) for i, (q, v) in enumerate(base.items())}
    mean, lo, hi = paired_bootstrap(base, better, resamples=2000, seed=3)
    assert abs(mean - 0.1) < 1e-9
    assert 0.0 < lo < mean < hi < 0.2


def test_paired_bootstrap_noise_interval_contains_zero() -> None:
    from benchmarks.metrics import paired_bootstrap

    base = {f"q{i}": 0.5 for i in range(100)}
    noisy = {q: 0.5 + (0.3 if i % 2 else -0.3) for i, q in enumerate(base)}
    mean, lo, hi = paired_bootstrap(base, noisy, resamples=2000)
    assert lo < 0.0 < hi
    assert abs(mean) < 1e-9


def test_page_support_adds_a_share_of_the_other_passages_on_the_page() -> None:
    from indexer.search import SearchConfig, fuse

    # Page a/1 has two keyword hits; b/1 has the single best one.
    kw = [_hit("b", 1, 0, 10.0), _hit("a", 1, 0, 9.0), _hit("a", 1, 1, 8.0), _hit("c", 1, 0, 0.0)]
    plain = SearchConfig(fusion="score", keyword_weight=1.0)
    assert [c.row["doc"] for c in fuse(kw, [], [], plain)][:2] == ["b", "a"]
    supported = SearchConfig(fusion="score", keyword_weight=1.0, page_support=0.5)
    got = {c.row["doc"]: c.score for c in fuse(kw, [], [], supported)}
    assert got["b"] == pytest.approx(1.0)
    assert got["a"] == pytest.approx(0.9 + 0.5 * 0.8)
    assert [c.row["doc"] for c in fuse(kw, [], [], supported)][:2] == ["a", "b"]


def test_delta_interval_is_the_rounded_paired_bootstrap():
    from benchmarks.metrics import delta_interval, paired_bootstrap

    a = {f"q{i}": i / 7 for i in range(20)}
    b = {f"q{i}": (i % 5) / 3 for i in range(20)}
    assert delta_interval(a, b) == [round(x, 4) for x in paired_bootstrap(a, b)]
    assert delta_interval(a, b, digits=2) == [round(x, 2) for x in paired_bootstrap(a, b)]

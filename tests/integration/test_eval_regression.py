"""Retrieval-quality regression guard: a SciFact sample through the real indexing and search.

A fixed-seed sample of 50 *training* queries, their relevant abstracts and 250 distractors is
written as Markdown files, indexed by the real pipeline (sandboxed extraction, chunker, ONNX
embedder, LanceDB) in ``tmp_path`` and searched with the default configuration. The thresholds
sit a little below the values measured when they were set (see benchmarks/results/scifact.md);
a drop means a change to chunking, the full-text index, the embedder or the fusion made
retrieval worse.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
SCIFACT = SHARED / "eval" / "scifact"

# Measured on this sample with the defaults (benchmarks/results/scifact.md):
# hybrid 0.8661, keyword 0.8081, vector 0.8583. Search is deterministic; the margin absorbs
# numeric differences between ONNX Runtime builds and CPUs, not real regressions.
HYBRID_NDCG10_MIN = 0.84


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.timeout(400)
def test_hybrid_ndcg_on_scifact_sample(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    if not (SCIFACT / "corpus.jsonl").exists():
        pytest.fail(f"{SCIFACT} is missing: ../shared must sit beside the checkout")
    from benchmarks.eval_retrieval import load_dataset
    from benchmarks.runner import Variant, build, run_variants
    from indexer.search import SearchConfig, Searcher

    ds = load_dataset(SCIFACT, "train", "fast")
    assert len(ds.queries) == 50
    built = build(ds, "markdown", embedder, cache=tmp_path)
    searcher = Searcher(built.index_dir, embedder)
    try:
        base = SearchConfig()
        results = run_variants(
            searcher,
            built,
            ds,
            [
                Variant("keyword", replace(base, mode="keyword")),
                Variant("vector", replace(base, mode="vector")),
                Variant("hybrid", base),
            ],
            deep=False,
        )
        scores = {r["variant"]: r["ndcg@10"] for r in results}
    finally:
        searcher.close()
    print(f"SciFact fast sample nDCG@10: {scores}")
    assert scores["hybrid"] >= HYBRID_NDCG10_MIN, scores
    assert scores["hybrid"] > scores["keyword"], scores
    assert scores["hybrid"] > scores["vector"], scores

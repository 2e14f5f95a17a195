"""Retrieval levers that lost or tied, measured on the SciFact **train** split (never test).

    .venv/bin/python benchmarks/levers.py [--dataset ../shared/eval/scifact]

Uses the cached full-corpus index that ``eval_retrieval.py`` builds (built here if missing).
Three groups, each against the default as its first row:

1. fusion variants, computed offline from each query's keyword and vector candidate lists
   (fetched once, 200 deep): score normalisation (min-max, z-score, divide-by-max, RRF),
   a document missing from one list scored as that list's minimum instead of 0, candidate
   depth, and a sum-of-best-two-passages roll-up instead of the best passage;
2. dense pseudo-relevance feedback (Rocchio): the query vector moved towards the vectors of the
   first pass's top-k documents, then the vector search and the fusion are run again;
3. full-text tokenizer settings, each index rebuilt on a copy of the cached table (no
   re-embedding): stemming, stop words, whitespace / ICU tokenizers.

The offline fusion re-implements ``Searcher._fuse`` for page roll-up with score fusion over
document ids; its "default" row reproduces the app's train figure (a check that it is faithful).
Results go to benchmarks/results/levers-train.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

Hits = list[tuple[str, str, float]]  # (doc, chunk_id, score), best first


def _rollup(hits: Hits, depth: int, how: str = "max") -> dict[str, float]:
    per: dict[str, list[float]] = {}
    for doc, _cid, score in hits[:depth]:
        per.setdefault(doc, []).append(score)
    if how == "sum2":
        return {d: v[0] + 0.3 * (v[1] if len(v) > 1 else 0.0) for d, v in per.items()}
    return {d: v[0] for d, v in per.items()}


def _normalise(scores: dict[str, float], how: str) -> dict[str, float]:
    if not scores:
        return {}
    vals = list(scores.values())
    if how == "zscore":
        mean, sd = statistics.fmean(vals), statistics.pstdev(vals) or 1.0
        return {d: (s - mean) / sd for d, s in scores.items()}
    if how == "max":
        top = max(vals) or 1.0
        return {d: s / top for d, s in scores.items()}
    if how == "rrf":
        order = sorted(scores, key=lambda d: -scores[d])
        return {d: 1.0 / (60 + i) for i, d in enumerate(order, 1)}
    lo, hi = min(vals), max(vals)
    return {d: (s - lo) / (hi - lo) if hi > lo else 1.0 for d, s in scores.items()}


def fuse(
    kw: Hits,
    vec: Hits,
    *,
    norm: str = "minmax",
    depth: int = 50,
    roll: str = "max",
    missing: str = "zero",
) -> list[str]:
    """Top ten documents, equal weights (the app's default is min-max, depth 50, best passage)."""
    a = _normalise(_rollup(kw, depth, roll), norm)
    b = _normalise(_rollup(vec, depth, roll), norm)
    fill_a = min(a.values()) if a and missing == "min" else 0.0
    fill_b = min(b.values()) if b and missing == "min" else 0.0
    fused = {d: 0.5 * a.get(d, fill_a) + 0.5 * b.get(d, fill_b) for d in set(a) | set(b)}
    return sorted(fused, key=lambda d: -fused[d])[:10]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", type=Path, default=ROOT.parent / "shared" / "eval" / "scifact")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/levers-train.json")
    args = ap.parse_args()

    from lancedb.index import FTS

    from benchmarks.eval_retrieval import load_dataset
    from benchmarks.metrics import evaluate
    from benchmarks.runner import build
    from indexer.layout import IndexLayout
    from indexer.state import StateDB
    from indexer.store import FTS_COLUMN, ChunkStore, sql_str
    from models.catalogue import find_model
    from models.embedder import Embedder

    ds = load_dataset(args.dataset, "train", "full")
    emb = Embedder(find_model(Path("/nonexistent"), None, "embedding"))
    built = build(ds, "markdown", emb)
    state = StateDB(IndexLayout(built.index_dir).state, readonly=True)
    doc_id = {}
    for row in state.files():
        did = built.doc_ids(row.path, None)
        if did and row.hash:
            doc_id[row.hash] = did
    state.close()
    store = ChunkStore(built.index_dir, emb.dims, readonly=True)

    def as_hits(raw: list[Any]) -> Hits:
        return [(h.row["doc"], h.row["chunk_id"], h.score) for h in raw]

    qvec = {q: emb.embed_query(t) for q, t in ds.queries.items()}
    lists = {
        q: (as_hits(store.text_search(t, 200)), as_hits(store.vector_search(qvec[q], 200)))
        for q, t in ds.queries.items()
    }

    def ndcg(ranker: Callable[[str], list[str]]) -> float:
        run = {q: [doc_id[d] for d in ranker(q) if d in doc_id] for q in ds.queries}
        metrics, _ = evaluate(ds.qrels, run)
        return round(float(metrics["ndcg@10"]), 4)

    results: dict[str, dict[str, float]] = {"fusion": {}, "dense_prf": {}, "tokenizer": {}}
    fusion_variants: dict[str, dict[str, Any]] = {
        "default: min-max, depth 50, best passage": {},
        "z-score": {"norm": "zscore"},
        "z-score, missing = list minimum": {"norm": "zscore", "missing": "min"},
        "min-max, missing = list minimum": {"missing": "min"},
        "divide by max": {"norm": "max"},
        "RRF k=60 (document level)": {"norm": "rrf"},
        "depth 30": {"depth": 30},
        "depth 100": {"depth": 100},
        "best + 0.3 x second passage": {"roll": "sum2"},
    }
    for name, kwargs in fusion_variants.items():
        results["fusion"][name] = ndcg(lambda q, kw=kwargs: fuse(*lists[q], **kw))
        print(f"{results['fusion'][name]:.4f}  fusion: {name}", flush=True)

    def vectors(chunk_ids: list[str]) -> list[np.ndarray[Any, Any]]:
        rows = (
            store._table.search()
            .where(f"chunk_id IN ({','.join(sql_str(c) for c in chunk_ids)})")
            .select(["chunk_id", "vector"])
            .limit(len(chunk_ids))
            .to_arrow()
            .to_pylist()
        )
        by_id = {r["chunk_id"]: np.asarray(r["vector"], dtype=np.float32) for r in rows}
        return [by_id[c] for c in chunk_ids if c in by_id]

    def prf(q: str, k: int, beta: float) -> list[str]:
        kw, vec = lists[q]
        best: dict[str, str] = {}
        for doc, cid, _s in vec + kw:
            best.setdefault(doc, cid)
        fb = vectors([best[d] for d in fuse(kw, vec)[:k] if d in best])
        if not fb:
            return fuse(kw, vec)
        moved = qvec[q] + beta * np.mean(fb, axis=0)
        moved = (moved / np.linalg.norm(moved)).astype(np.float32)
        return fuse(kw, as_hits(store.vector_search(moved, 200)))

    for k, beta in ((1, 0.5), (3, 0.25), (3, 0.5), (3, 1.0), (5, 0.5)):
        name = f"top {k}, beta {beta}"
        results["dense_prf"][name] = ndcg(lambda q, k=k, beta=beta: prf(q, k, beta))
        print(f"{results['dense_prf'][name]:.4f}  dense PRF: {name}", flush=True)

    base = {"with_position": True, "stem": True, "remove_stop_words": True}
    tokenizers: dict[str, dict[str, Any]] = {
        "simple, stemmed, stop words removed (before ICU)": {},
        "ICU (the default now)": {"base_tokenizer": "icu"},
        "no stemming": {"stem": False},
        "stop words kept": {"remove_stop_words": False},
        "no stemming, stop words kept": {"stem": False, "remove_stop_words": False},
        "whitespace tokenizer": {"base_tokenizer": "whitespace"},
    }
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "index"
        shutil.copytree(built.index_dir, copy)
        writable = ChunkStore(copy, emb.dims)
        for name, extra in tokenizers.items():
            t0 = time.perf_counter()
            for ix in writable._table.list_indices():
                if ix.index_type == "FTS":
                    writable._table.drop_index(ix.name)
            writable._table.create_index(FTS_COLUMN, config=FTS(**{**base, **extra}), replace=True)
            kw_lists = {q: as_hits(writable.text_search(t, 200)) for q, t in ds.queries.items()}
            keyword = ndcg(lambda q, kl=kw_lists: list(_rollup(kl[q], 200))[:10])
            hybrid = ndcg(lambda q, kl=kw_lists: fuse(kl[q], lists[q][1]))
            results["tokenizer"][name] = hybrid
            results["tokenizer"][name + " (keyword only)"] = keyword
            print(
                f"{hybrid:.4f}  tokenizer: {name} (keyword only {keyword:.4f}; "
                f"index built in {time.perf_counter() - t0:.0f}s)",
                flush=True,
            )
    args.out.write_text(json.dumps({"split": "train", "ndcg@10": results}, indent=2))


if __name__ == "__main__":
    main()

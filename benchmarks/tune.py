"""Grid search of search-time settings on a cached index (tuning split only: ``train``).

    .venv/bin/python benchmarks/tune.py --mode fast|full

Prints nDCG@10 (limit=10, as the app asks) and mean latency per setting; nothing is written.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", type=Path, default=ROOT.parent / "shared" / "eval" / "scifact")
    ap.add_argument("--mode", default="fast", choices=("fast", "full"))
    ap.add_argument("--corpus", default="markdown", choices=("markdown", "pdf"))
    ap.add_argument("--grid", default="default", choices=("default", "fine"))
    args = ap.parse_args()

    from benchmarks.eval_retrieval import load_dataset
    from benchmarks.metrics import evaluate
    from benchmarks.runner import build, ranked_docs
    from indexer.search import SearchConfig, Searcher
    from models.catalogue import find_model
    from models.embedder import Embedder

    ds = load_dataset(args.dataset, "train", args.mode)
    emb = Embedder(find_model(Path("/x"), None, "embedding"))
    built = build(ds, args.corpus, emb)
    s = Searcher(built.index_dir, emb)
    # Query vectors are the same for every setting: embed each query once.
    qvec = {q: emb.embed_query(t) for q, t in ds.queries.items()}
    real = emb.embed_query
    cache = {t.strip().replace('"', ""): qvec[q] for q, t in ds.queries.items()}
    emb.embed_query = lambda t: cache.get(t) if t in cache else real(t)  # type: ignore[method-assign]
    base = SearchConfig(per_doc=1000 if args.corpus == "pdf" else 3)
    grid = []
    if args.grid == "fine":  # around the best of the coarse grid
        for a, depth in itertools.product((0.45, 0.5, 0.55, 0.6), (50, 100)):
            grid.append(
                replace(
                    base,
                    group="page",
                    fusion="score",
                    keyword_weight=a,
                    vector_weight=1 - a,
                    name_weight=0.5,
                    depth=depth,
                )
            )
    for group in ("chunk", "page") if args.grid == "default" else ():
        for k, wk in itertools.product((20, 60), (0.7, 0.85, 1.0, 1.2)):
            grid.append(replace(base, group=group, rrf_k=k, keyword_weight=wk))
        grid.append(replace(base, group=group, depth=100))
        for a in (0.3, 0.4, 0.5):
            grid.append(
                replace(
                    base,
                    group=group,
                    fusion="score",
                    keyword_weight=a,
                    vector_weight=1 - a,
                    name_weight=0.5,
                )
            )
    rows = []
    for cfg in grid:
        run, lat = {}, []
        for qid, text in ds.queries.items():
            t = time.perf_counter()
            hits = s.search(text, 10, config=cfg).hits
            lat.append((time.perf_counter() - t) * 1000)
            run[qid] = ranked_docs(built, hits)
        m, _ = evaluate(ds.qrels, run)
        rows.append((m["ndcg@10"], cfg, statistics.fmean(lat)))
        print(
            f"{m['ndcg@10']:.4f} {m['mrr@10']:.4f} {statistics.fmean(lat):6.1f}ms "
            f"group={cfg.group} fusion={cfg.fusion} k={cfg.rrf_k} wk={cfg.keyword_weight} "
            f"wv={cfg.vector_weight} depth={cfg.depth}",
            flush=True,
        )
    rows.sort(key=lambda r: -r[0])
    print("best:")
    for n, cfg, _ms in rows[:8]:
        print(f"{n:.4f} {cfg}")


if __name__ == "__main__":
    main()

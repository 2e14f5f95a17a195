"""SciFact test, keyword half: the query-side experiments of issue 12 section 4, paired.

Runs on an index eval_retrieval.py built (``benchmarks/.cache/scifact-markdown-*``), even one
whose vectors are not all written yet: only the BM25 half is searched. Compares, over the 300
test queries with a paired bootstrap of nDCG@10:

- the query cleaning before the number fix ("2.5" became "2 5") against the current one,
  run on the queries it changes (the others search identically);
- ``keyword`` against ``keyword-page-support-0.25`` (section 4d) on all 300.

    .venv/bin/python benchmarks/exp_numbers_scifact.py \\
        --index benchmarks/.cache/scifact-markdown-5183-ab824268e51a8118 \\
        --out benchmarks/results/scifact-test-keyword-levers.json
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("RUST_LOG", "error")

_OLD_SAFE = re.compile(r"[^\w\s\"'-]", re.UNICODE)


def old_fts_query(text: str) -> str:
    """``indexer.store.fts_query`` as it was before the number fix (commit b8a2ef6)."""
    cleaned = _OLD_SAFE.sub(" ", text)
    if cleaned.count('"') % 2:
        cleaned = cleaned.replace('"', " ")
    words = [w.strip("-'") for w in cleaned.split()]
    return " ".join(w for w in words if w and w.upper() not in ("AND", "OR", "NOT"))


class _OldQuery:
    """A searcher whose keyword half cleans queries the old way."""

    def __init__(self, searcher: Any) -> None:
        self.searcher = searcher

    def search(self, *a: Any, **kw: Any) -> Any:
        import indexer.store as store

        new = store.fts_query
        store.fts_query = old_fts_query
        try:
            return self.searcher.search(*a, **kw)
        finally:
            store.fts_query = new


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", type=Path, default=ROOT.parent / "shared" / "eval" / "scifact")
    ap.add_argument("--index", type=Path, required=True, help="a cached eval_retrieval build")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)

    from benchmarks import beir
    from benchmarks.eval_retrieval import _add_bootstrap
    from benchmarks.runner import Built, Variant, run_variants
    from indexer.search import SearchConfig, Searcher
    from models.catalogue import find_model
    from models.embedder import Embedder

    ds = beir.load(args.dataset, "test")
    built = Built(
        args.index / "index",
        args.index / "docs",
        "markdown",
        {f"{d}.md": d for d in ds.corpus},
        {},
        0.0,
        0,
    )
    embedder = Embedder(find_model(Path("/nonexistent-models-dir"), None, "embedding"))
    searcher = Searcher(built.index_dir, embedder)
    kw = replace(SearchConfig(), mode="keyword")
    from indexer.store import fts_query

    # The fix changes only queries whose cleaning differs; the others search identically, so
    # both cleanings are run on those alone and the rest count as equal (a zero difference).
    changed = {q: t for q, t in ds.queries.items() if old_fts_query(t) != fts_query(t)}
    sub = replace(ds, queries=changed, qrels={q: ds.qrels[q] for q in changed})
    new_sub = run_variants(searcher, built, sub, [Variant("keyword", kw)], deep=False)[0]
    old_sub = run_variants(
        _OldQuery(searcher), built, sub, [Variant("keyword-old-query", kw)], deep=False
    )[0]
    from benchmarks.metrics import delta_interval

    same = {q: 0.0 for q in ds.queries if q not in changed}
    a = same | new_sub["per_query_ndcg@10"]
    b = same | old_sub["per_query_ndcg@10"]
    fix = {
        "queries_cleaned_differently": len(changed),
        "cleaned": {q: [old_fts_query(t), fts_query(t)] for q, t in changed.items()},
        "ndcg@10_new_on_changed": new_sub["per_query_ndcg@10"],
        "ndcg@10_old_on_changed": old_sub["per_query_ndcg@10"],
        "old_minus_new_ndcg@10_over_all_300": delta_interval(a, b, digits=5),
    }
    print(json.dumps(fix), file=sys.stderr)
    if args.out:
        args.out.write_text(json.dumps({"number_fix": fix}, indent=2) + "\n")
    results = run_variants(
        searcher,
        built,
        ds,
        [
            Variant("keyword", kw),
            Variant("keyword-page-support-0.25", replace(kw, page_support=0.25)),
        ],
        deep=False,
    )
    searcher.close()
    import benchmarks.eval_retrieval as er

    er.BASELINE = "keyword"
    _add_bootstrap(results)
    payload = {
        "dataset": "scifact",
        "split": "test",
        "queries": len(ds.queries),
        "number_fix": fix,
        "half": "keyword only (the vectors of this build were not complete)",
        "machine": {"cpus": os.cpu_count(), "note": "2 cores shared with other jobs (loaded)"},
        "results": results,
    }
    for r in results:
        print(r["variant"], r["ndcg@10"], r.get("ndcg@10_delta"), file=sys.stderr)
    if args.out:
        args.out.write_text(json.dumps(payload, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Retrieval quality of Findling's real indexing and search path on a BEIR dataset.

Indexes the corpus (as Markdown files, or as multi-page PDFs with ``--corpus pdf``) through the
product's pipeline, runs every query of the chosen split through ``Searcher.search`` for each
configuration and reports nDCG@10, Recall@10, Recall@100, MRR@10 and query latency as JSON and
as a Markdown table. Built indexes are cached under ``benchmarks/.cache``.

    .venv/bin/python benchmarks/eval_retrieval.py --dataset ../shared/eval/scifact \\
        --split test --mode full --corpus markdown --out benchmarks/results/scifact-test.json

``--mode fast`` evaluates a fixed-seed sample (50 queries, their relevant documents and 250
distractors), the same sample the regression test uses. Tune on ``--split train``; report
``test`` once per configuration you keep.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("RUST_LOG", "error")

# The fast sample (also the regression test's). Its size is set by the embedder's speed: about
# 5-20 passages/s on two laptop-class cores (the low end when they are shared), so ~300
# documents (~650 passages) index in one to two minutes.
FAST_QUERIES = 50
FAST_DISTRACTORS = 250
FAST_SEED = 20240


def variants(names: list[str] | None = None) -> list[Any]:
    """The configurations compared: each half alone, the hybrid default, and alternatives."""
    from benchmarks.runner import Variant
    from indexer.search import SearchConfig

    base = SearchConfig()
    allv = [
        Variant("keyword", replace(base, mode="keyword")),
        Variant("vector", replace(base, mode="vector")),
        Variant("hybrid", base),
    ]
    allv += _extra_variants(base)
    if names:
        allv = [v for v in allv if v.name in names]
    return allv


def _extra_variants(base: Any) -> list[Any]:
    """Alternatives measured against the default (kept here so results stay reproducible)."""
    from benchmarks.runner import Variant

    return [
        Variant(
            "hybrid-rrf-chunk (old default)",
            replace(
                base,
                group="chunk",
                fusion="rrf",
                keyword_weight=1.0,
                vector_weight=1.0,
                name_weight=1.0,
            ),
        ),
        Variant(
            "hybrid-rrf-page",
            replace(
                base,
                group="page",
                fusion="rrf",
                keyword_weight=1.0,
                vector_weight=1.0,
                name_weight=1.0,
            ),
        ),
        Variant("hybrid-score-chunk", replace(base, group="chunk")),
        *(Variant(f"hybrid-page-support-{w}", replace(base, page_support=w)) for w in (0.1, 0.25)),
    ]


def load_dataset(
    folder: Path, split: str, mode: str, queries: int | None = None, distractors: int | None = None
) -> Any:
    """The split's queries and judgements; in fast mode a fixed-seed sample."""
    from benchmarks import beir

    ds = beir.load(folder, split)
    if mode == "fast":
        ds = beir.sample(
            ds,
            queries or FAST_QUERIES,
            FAST_DISTRACTORS if distractors is None else distractors,
            FAST_SEED,
        )
    return ds


BASELINE = "hybrid"  # the current default: every other variant is compared with it


def _add_bootstrap(results: list[dict[str, Any]]) -> None:
    """Paired bootstrap (10,000 resamples over queries) of each variant's nDCG@10 minus the
    default's, stored as ``ndcg@10_delta`` = [mean, low, high] (95 % interval)."""
    from benchmarks.metrics import delta_interval

    base = next((r for r in results if r["variant"] == BASELINE), None)
    if base is None:
        return
    for r in results:
        r["ndcg@10_delta"] = delta_interval(base["per_query_ndcg@10"], r["per_query_ndcg@10"])
        mean, lo, hi = r["ndcg@10_delta"]
        print(
            f"{r['variant']:32s} nDCG@10 - {BASELINE}: {mean:+.4f} [{lo:+.4f}, {hi:+.4f}]",
            file=sys.stderr,
        )


def markdown_table(results: list[dict[str, Any]], title: str) -> str:
    """A short Markdown table of the results."""
    lines = [
        f"### {title}",
        "",
        "| variant | nDCG@10 | Recall@10 | Recall@100 | MRR@10 | p50 ms | p95 ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['variant']} | {r['ndcg@10']:.4f} | {r['recall@10']:.4f} | "
            f"{r['recall@100']:.4f} | {r['mrr@10']:.4f} | {r['latency_ms_p50']:.1f} | "
            f"{r['latency_ms_p95']:.1f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", type=Path, default=ROOT.parent / "shared" / "eval" / "scifact")
    ap.add_argument("--split", default="test", choices=("test", "train", "dev"))
    ap.add_argument("--mode", default="full", choices=("full", "fast"))
    ap.add_argument(
        "--corpus",
        default="markdown",
        choices=("markdown", "pdf"),
        help="write the corpus as one Markdown file per document, or as "
        "multi-page PDFs (one document per page)",
    )
    ap.add_argument("--queries", type=int, help=f"fast mode: sample size ({FAST_QUERIES})")
    ap.add_argument(
        "--distractors", type=int, help=f"fast mode: unjudged documents added ({FAST_DISTRACTORS})"
    )
    ap.add_argument("--variants", nargs="*", help="only these configurations")
    ap.add_argument("--out", type=Path, help="JSON results file (a .md table is written beside)")
    ap.add_argument("--cache", type=Path, help="where built indexes are kept")
    ap.add_argument("--workers", type=int, default=2, help="extraction worker processes")
    ap.add_argument("--rebuild", action="store_true", help="ignore a cached index")
    ap.add_argument(
        "--embedding-model",
        help="embedding model id (default: Findling's default); e.g. multilingual-e5-small",
    )
    ap.add_argument(
        "--models-dir",
        type=Path,
        default=ROOT / "benchmarks" / ".cache" / "models",
        help="models folder for --embedding-model (a converted model is kept there)",
    )
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    from benchmarks.runner import build, run_variants
    from indexer.search import Searcher
    from models.catalogue import find_model
    from models.embedder import Embedder

    ds = load_dataset(args.dataset, args.split, args.mode, args.queries, args.distractors)
    embedder = Embedder(find_model(args.models_dir, args.embedding_model, "embedding"))
    t0 = time.perf_counter()
    built = build(
        ds, args.corpus, embedder, cache=args.cache, workers=args.workers, rebuild=args.rebuild
    )
    print(
        f"index: {len(ds.corpus)} documents, {built.chunks} chunks, built in "
        f"{built.index_seconds:.0f} s (ready after {time.perf_counter() - t0:.0f} s)",
        file=sys.stderr,
    )
    searcher = Searcher(built.index_dir, embedder)
    searcher.search("warm up the caches", limit=10)
    results = run_variants(searcher, built, ds, variants(args.variants))
    for r in results:
        print(
            f"{r['variant']:24s} nDCG@10 {r['ndcg@10']:.4f}  R@100 {r['recall@100']:.4f}  "
            f"p50 {r['latency_ms_p50']:.1f} ms",
            file=sys.stderr,
        )
    searcher.close()
    _add_bootstrap(results)
    title = (
        f"{ds.name} {args.split} ({args.mode}, {args.corpus} corpus: "
        f"{len(ds.queries)} queries, {len(ds.corpus)} documents, {built.chunks} chunks)"
    )
    table = markdown_table(results, title)
    print(table)
    if args.out:
        payload = {
            "dataset": ds.name,
            "split": args.split,
            "mode": args.mode,
            "corpus": args.corpus,
            "queries": len(ds.queries),
            "documents": len(ds.corpus),
            "chunks": built.chunks,
            "index_seconds": built.index_seconds,
            "failed_files": built.failed,
            "embedding_model": embedder.spec.id,
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "platform": platform.platform(),
            },
            "results": results,
        }
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(payload, indent=2) + "\n")
        args.out.with_suffix(".md").write_text(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())

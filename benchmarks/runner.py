"""Build a Findling index of a BEIR corpus (cached) and run ranked retrieval against it.

Everything goes through the product's own code: files on disk, the indexing pipeline (sandboxed
extraction, chunker, embedder, LanceDB store) and :class:`indexer.search.Searcher`. Hits are
mapped back to document ids by file name (Markdown corpus) or by ``(file, page)`` (PDF corpus)
and rolled up to documents: the first (best) hit of a document gives its rank.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import statistics
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from benchmarks import beir
from benchmarks.metrics import evaluate, per_query

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "benchmarks" / ".cache"
# Bump when the way corpora are written changes. Changes to extraction or to the full-text
# index settings are not detected: pass ``--rebuild`` after them.
CORPUS_VERSION = 1


@dataclass
class Built:
    """An index of a written corpus and how to map its hits back to document ids."""

    index_dir: Path
    docs_dir: Path
    kind: str
    names: dict[str, str]  # markdown: file name -> doc id
    pages: dict[str, dict[int, str]]  # pdf: file name -> page -> doc id
    index_seconds: float
    chunks: int
    failed: int = 0

    def doc_ids(self, path: str, page: int | None) -> str | None:
        """The document a hit belongs to."""
        name = Path(path).name
        if self.kind == "pdf":
            return self.pages.get(name, {}).get(page or 0)
        return self.names.get(name)


def _fingerprint(ds: beir.Dataset, kind: str, chunker: Any, embedder_id: str) -> str:
    from indexer.chunk import CHUNKER_VERSION

    h = hashlib.sha256()
    h.update(
        json.dumps(
            [
                CORPUS_VERSION,
                CHUNKER_VERSION,
                ds.name,
                kind,
                sorted(ds.corpus),
                asdict(chunker),
                embedder_id,
            ]
        ).encode()
    )
    return h.hexdigest()[:16]


def build(
    ds: beir.Dataset,
    kind: str,
    embedder: Any,
    *,
    cache: Path | None = None,
    chunker: Any = None,
    workers: int = 2,
    rebuild: bool = False,
) -> Built:
    """Write the corpus as files and index it, reusing a cached index with the same inputs."""
    from indexer.chunk import ChunkerConfig
    from indexer.config import IndexConfig
    from indexer.pipeline import Indexer
    from indexer.sandbox import SandboxConfig

    chunker = chunker or ChunkerConfig()
    key = _fingerprint(ds, kind, chunker, embedder.spec.id)
    base = (cache or CACHE) / f"{ds.name}-{kind}-{len(ds.corpus)}-{key}"
    meta_file = base / "built.json"
    if meta_file.exists() and not rebuild:
        meta = json.loads(meta_file.read_text())
        log.info("Reusing cached index %s", base)
        from indexer.store import ChunkStore

        # As a writer opening it would: bring the full-text index to the current settings.
        ChunkStore(base / "index", embedder.dims).ensure_fts()
        return Built(
            base / "index",
            base / "docs",
            kind,
            meta["names"],
            {k: {int(p): d for p, d in v.items()} for k, v in meta["pages"].items()},
            meta["index_seconds"],
            meta["chunks"],
            meta.get("failed", 0),
        )
    shutil.rmtree(base, ignore_errors=True)
    docs = base / "docs"
    names: dict[str, str] = {}
    pages: dict[str, dict[int, str]] = {}
    if kind == "pdf":
        pages = beir.write_pdfs(ds, docs)
    else:
        names = beir.write_markdown(ds, docs)
    # A generous per-file timeout: the pool's clock keeps running while the pipeline embeds a
    # batch, so on a busy machine small files can be reported as too slow (see the README).
    cfg = IndexConfig(
        index_dir=base / "index",
        folders=(docs,),
        chunker=chunker,
        sandbox=SandboxConfig(workers=workers, nice=0, timeout_s=3600),
        batch_chunks=512,
    )
    t0 = time.perf_counter()
    with Indexer(cfg, embedder) as ix:
        report = ix.sync()
        chunks = ix.store.count()
    seconds = time.perf_counter() - t0
    if report.failed:  # counted as misses, never hidden
        log.warning("%d corpus files failed to index", report.failed)
    meta_file.write_text(
        json.dumps(
            {
                "names": names,
                "pages": pages,
                "failed": report.failed,
                "index_seconds": round(seconds, 1),
                "chunks": chunks,
            }
        )
    )
    return Built(base / "index", docs, kind, names, pages, round(seconds, 1), chunks, report.failed)


def ranked_docs(built: Built, hits: list[Any]) -> list[str]:
    """Hits rolled up to document ids, best first (a document ranks by its best hit)."""
    out: dict[str, None] = {}
    for h in hits:
        for path in (h.path, *h.other_paths):
            did = built.doc_ids(path, h.page)
            if did is not None:
                out.setdefault(did, None)
    return list(out)


@dataclass(frozen=True)
class Variant:
    """A named search configuration to evaluate."""

    name: str
    config: Any  # indexer.search.SearchConfig


def run_variants(
    searcher: Any, built: Built, ds: beir.Dataset, variants: list[Variant], *, deep: bool = True
) -> list[dict[str, Any]]:
    """Metrics and latency of each configuration over every query of ``ds``.

    Per configuration, two searches per query: ``limit=10`` exactly as the app asks (nDCG@10,
    Recall@10, MRR@10, latency) and, when ``deep``, ``limit=100`` for Recall@100 (a deeper
    request also deepens the candidate lists, so its top ten can differ slightly from the
    app's). Configurations take turns query by query so that a change in machine load does not
    favour one of them in the latency figures.
    """
    cfgs = []
    for v in variants:
        cfg = v.config
        if built.kind == "pdf":
            # A PDF holds many documents: the per-file cap would hide the other pages' documents.
            cfg = replace(cfg, per_doc=1000)
        cfgs.append(cfg)
    run10: list[dict[str, list[str]]] = [{} for _ in variants]
    run100: list[dict[str, list[str]]] = [{} for _ in variants]
    lat: list[list[float]] = [[] for _ in variants]
    for qid, text in ds.queries.items():
        for i, cfg in enumerate(cfgs):
            t = time.perf_counter()
            res = searcher.search(text, limit=10, config=cfg)
            lat[i].append((time.perf_counter() - t) * 1000)
            run10[i][qid] = ranked_docs(built, res.hits)
            if deep:
                deeper = searcher.search(text, limit=100, config=cfg).hits
                run100[i][qid] = ranked_docs(built, deeper)
    out = []
    for i, v in enumerate(variants):
        m10, backend = evaluate(ds.qrels, run10[i])
        r100 = evaluate(ds.qrels, run100[i])[0]["recall@100"] if deep else float("nan")
        ms = sorted(lat[i])
        out.append(
            {
                "variant": v.name,
                "config": asdict(v.config),
                "ndcg@10": round(m10["ndcg@10"], 4),
                "recall@10": round(m10["recall@10"], 4),
                "recall@100": round(r100, 4),
                "mrr@10": round(m10["mrr@10"], 4),
                "latency_ms_p50": round(statistics.median(ms), 2),
                "latency_ms_p95": round(ms[max(0, int(len(ms) * 0.95) - 1)], 2),
                "queries": len(ds.queries),
                "metrics_backend": backend,
                # for paired comparisons between variants (benchmarks.metrics.paired_bootstrap)
                "per_query_ndcg@10": {
                    q: round(m["ndcg@10"], 6) for q, m in per_query(ds.qrels, run10[i]).items()
                },
            }
        )
    return out

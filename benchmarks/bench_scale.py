"""Search at scale: hybrid query latency, ANN recall@10 and index size at N passages.

Builds a chunk table of N passages through Findling's own ChunkStore and state database: a few
thousand real passages (SciFact abstracts from ../shared, cut into 80-word passages) are embedded
once with the real embedder (cached in benchmarks/.cache/scale/), then replicated until there are
N: each copy gets the real vector plus Gaussian noise, re-normalised (cosine to its original
about --copy-cos), and the real text with its words rotated, so the full-text index has real
content. The full-text index and the approximate vector index are then built by the store's own
code (ChunkStore.ensure_fts, ChunkStore.ensure_vector_index — what optimize() runs).

Measured, warm, in one process:
  * hybrid query p50/p95 in ms through indexer.search.Searcher.search (query embedding, BM25,
    vector search, file names, fusion, snippets) for real SciFact queries: no filter, a narrow
    folder filter (1/20 of the files) and a wide one (1/2); every query embedded afresh (the
    searcher's cache of query vectors off), and apart from that the same query repeated (the
    as-you-type case, cache on); the median of each stage (SearchResult.stages) and one query
    profiled by hand: embedding, each LanceDB search to Arrow, Arrow to Python rows;
  * recall@10 of the store's vector search (ANN once the index exists) against the exact scan,
    with and without the filters; vector-search-only latency, ANN and exact;
  * build time (write, full-text index, vector index), bytes per passage of each index on disk,
    and the growth of the process's resident memory from opening the index and querying it.

    .venv/bin/python benchmarks/bench_scale.py --passages 100000 [--json]

Results go to benchmarks/results/scale-<N>.json (or --out). With --json, exactly one JSON object
is printed on stdout; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("RUST_LOG", "error")

SCIFACT = ROOT.parent / "shared" / "eval" / "scifact"
WORDS_PER_PASSAGE = 80
PASSAGES_PER_DOC = 40
FOLDERS = 20
BATCH = 50_000
TARGETS_P95_MS = {100_000: 20.0, 1_000_000: 50.0}


def log(msg: str) -> None:
    print(f"[bench_scale] {msg}", file=sys.stderr, flush=True)


def real_passages(k: int) -> list[tuple[str, str]]:
    """The first ``k`` (title, passage) pairs of SciFact, abstracts cut into 80-word passages."""
    out: list[tuple[str, str]] = []
    with (SCIFACT / "corpus.jsonl").open(encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            words = d["text"].split()
            for i in range(0, len(words), WORDS_PER_PASSAGE):
                part = words[i : i + WORDS_PER_PASSAGE]
                if len(part) >= 20:
                    out.append((d["title"], " ".join(part)))
                if len(out) >= k:
                    return out
    return out


def real_queries(n: int) -> list[str]:
    with (SCIFACT / "queries.jsonl").open(encoding="utf-8") as f:
        return [json.loads(line)["text"] for line in f][:n]


def embedded(emb: Any, texts: list[str], cache: Path) -> Any:
    """Real vectors of ``texts``, from the cache when this model embedded them before."""
    import numpy as np

    key = hashlib.sha1(("\n".join(texts) + emb.model_id).encode()).hexdigest()[:16]
    path = cache / f"{emb.model_id}-{len(texts)}-{key}.npy"
    if path.exists():
        return np.load(path)
    log(f"embedding {len(texts)} real passages (once; cached in {cache})")
    t0 = time.perf_counter()
    vecs = emb.embed(texts)
    log(f"  {len(texts) / (time.perf_counter() - t0):.1f} passages/s")
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, vecs)
    return vecs


def copy_sigma(dims: int, cos: float) -> float:
    """Per-dimension noise that puts a re-normalised copy at cosine ``cos`` to its original."""
    return float(((1.0 / cos**2 - 1.0) / dims) ** 0.5)


def build(
    index_dir: Path,
    folder: Path,
    n: int,
    real: list[tuple[str, str]],
    vecs: Any,
    copy_cos: float,
    ann_cfg: Any,
) -> dict[str, Any]:
    """Write ``n`` passages (state database and chunk table), then the indexes; timings."""
    import numpy as np
    import pyarrow as pa

    from indexer.layout import IndexLayout
    from indexer.state import FileRow, StateDB
    from indexer.states import FileState
    from indexer.store import ChunkStore, schema

    index_dir.mkdir(parents=True, exist_ok=True)
    state = StateDB(IndexLayout(index_dir).state)
    store = ChunkStore(index_dir, vecs.shape[1], ann=ann_cfg)
    rng = np.random.default_rng(7)
    dims = vecs.shape[1]
    sigma = copy_sigma(dims, copy_cos)
    words = [t.split() for _, t in real]
    k = len(real)
    t0 = time.perf_counter()
    n_docs = (n + PASSAGES_PER_DOC - 1) // PASSAGES_PER_DOC
    now = time.time_ns()
    with state.transaction() as conn:
        for d in range(n_docs):
            rows = min(PASSAGES_PER_DOC, n - d * PASSAGES_PER_DOC)
            path = folder / f"part-{d % FOLDERS:02d}" / f"paper-{d:07d}.pdf"
            state.upsert_file(
                conn,
                FileRow(
                    str(path), str(folder), 1000, now, f"doc{d:07d}", FileState.INDEXED, chunks=rows
                ),
            )
            state.add_doc(conn, f"doc{d:07d}", rows, rows, real[(d * PASSAGES_PER_DOC) % k][0])
    state.close()
    sch = schema(dims)
    for s in range(0, n, BATCH):
        idx = np.arange(s, min(n, s + BATCH))
        src, copy = idx % k, idx // k
        v = vecs[src].copy()
        noisy = copy > 0  # copy 0 is the real passage with its real vector
        v[noisy] += sigma * rng.standard_normal((int(noisy.sum()), dims)).astype(np.float32)
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        texts = []
        for i, c in zip(src.tolist(), copy.tolist(), strict=True):
            w = words[i]
            r = (c * 7) % len(w)
            texts.append(" ".join(w[r:] + w[:r]))
        docs = [f"doc{r // PASSAGES_PER_DOC:07d}" for r in idx.tolist()]
        ords = (idx % PASSAGES_PER_DOC).astype(np.int32)
        table = pa.table(
            {
                "chunk_id": [f"{d}:{o}" for d, o in zip(docs, ords.tolist(), strict=True)],
                "doc": docs,
                "ordinal": ords,
                "page": ords + 1,
                "heading": [real[i][0][:80] for i in src.tolist()],
                "text": texts,
                "search_text": texts,
                "start": np.zeros(len(idx), np.int32),
                "end": np.array([len(t) for t in texts], np.int32),
                "th": [f"t{r:x}" for r in idx.tolist()],
                "vector": pa.FixedSizeListArray.from_arrays(pa.array(v.ravel()), dims),
            },
            schema=sch,
        )
        store._table.add(table)  # bulk load; merge_insert per batch is for incremental writes
    t_write = time.perf_counter() - t0
    log(f"wrote {n} passages in {t_write:.1f} s; building the full-text index")
    t1 = time.perf_counter()
    store.ensure_fts()
    t_fts = time.perf_counter() - t1
    log(f"full-text index {t_fts:.1f} s; vector index")
    t2 = time.perf_counter()
    done = store.ensure_vector_index()
    t_ann = time.perf_counter() - t2
    log(f"vector index: {done or 'none (below the threshold)'} in {t_ann:.1f} s")
    return {
        "build_s": round(time.perf_counter() - t0, 2),
        "write_s": round(t_write, 2),
        "fts_index_s": round(t_fts, 2),
        "vector_index_s": round(t_ann, 2),
        "vector_index_action": done,
    }


def index_bytes(index_dir: Path, table: Any) -> dict[str, int]:
    """On-disk bytes of each index of the chunk table, by index name."""
    from indexer.layout import IndexLayout

    root = IndexLayout(index_dir).lance / "chunks.lance" / "_indices"
    out: dict[str, int] = {}
    for ix in table.list_indices():
        d = root / str(getattr(ix, "index_uuid", ""))
        out[ix.name] = sum(f.stat().st_size for f in d.rglob("*") if f.is_file())
    return out


def rss_mb(key: str = "VmRSS") -> float:
    """The process's resident memory (``VmHWM``: its peak) in MiB."""
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def median_stages(results: list[Any]) -> dict[str, float]:
    """The median milliseconds of each stage over the searches' ``SearchResult.stages``."""
    import numpy as np

    names = sorted({k for r in results for k in r.stages})
    return {k: round(float(np.median([r.stages.get(k, 0.0) for r in results])), 2) for k in names}


def profile_one(store: Any, emb: Any, query: str, rounds: int = 15) -> dict[str, float]:
    """One hybrid query's raw LanceDB searches, stage by stage (median ms): the query
    embedding, each search in LanceDB (to Arrow) and its conversion to Python rows."""
    import numpy as np

    from indexer import ann
    from indexer.store import _COLUMNS, FTS_COLUMN, fts_query

    table = store._table
    out: dict[str, list[float]] = {}

    def tick(name: str, t: float) -> float:
        now = time.perf_counter()
        out.setdefault(name, []).append((now - t) * 1000)
        return now

    for _ in range(rounds):
        t = time.perf_counter()
        qv = emb.embed_query(query)
        t = tick("query_embedding", t)
        q = table.search(qv, vector_column_name="vector").distance_type("cosine")
        arrow = ann.tune(q, table, store.ann, None, 50).select([*_COLUMNS, "_distance"])
        arrow = arrow.limit(50).to_arrow()
        t = tick("vector_search_arrow", t)
        arrow.to_pylist()
        t = tick("vector_to_python", t)
        fts = table.search(fts_query(query), query_type="fts", fts_columns=FTS_COLUMN)
        arrow = fts.select([*_COLUMNS, "_score"]).limit(50).to_arrow()
        t = tick("fulltext_search_arrow", t)
        arrow.to_pylist()
        tick("fulltext_to_python", t)
    return {k: round(float(np.median(v)), 2) for k, v in out.items()}


def pct(values: list[float], p: float) -> float:
    import numpy as np

    return round(float(np.percentile(values, p)), 2) if values else float("nan")


def measure(
    index_dir: Path, folder: Path, emb: Any, ann_cfg: Any, queries: list[str], rounds: int
) -> dict[str, Any]:
    """Latency, recall and memory, all warm (the resident app's case)."""
    from indexer.search import Searcher, SearchFilters
    from indexer.store import sql_str

    rss0 = rss_mb()
    searcher = Searcher(index_dir, emb, ann=ann_cfg)
    for q in queries[:5]:
        searcher.search(q, limit=10)
    # Cold queries: each one embedded afresh (the cache of query vectors serves repeats only,
    # measured apart below as the as-you-type case).
    searcher.query_cache = 0
    store, state = searcher._store, searcher._state
    assert store is not None and state is not None
    settings = {
        "none": None,
        "narrow": SearchFilters(folders=(str(folder / "part-03"),)),
        "wide": SearchFilters(folders=tuple(str(folder / f"part-{i:02d}") for i in range(10))),
    }
    out: dict[str, Any] = {}
    for name, filt in settings.items():
        allowed = None
        rows = store.count()
        if filt is not None:
            allowed = state.docs_matching(filt)
            where = f"doc IN ({','.join(sql_str(d) for d in allowed)})"
            rows = int(store._table.count_rows(where))
        known = None if allowed is None else state.chunk_count(allowed)
        times: list[float] = []
        results = []
        for _ in range(rounds):
            for q in queries:
                t = time.perf_counter()
                results.append(searcher.search(q, limit=10, filters=filt))
                times.append((time.perf_counter() - t) * 1000)
        # As you type: the same text again (a key that changed nothing, a filter toggled).
        searcher.query_cache = 64
        repeat: list[float] = []
        for q in queries:
            searcher.search(q, limit=10, filters=filt)
            t = time.perf_counter()
            searcher.search(q, limit=10, filters=filt)
            repeat.append((time.perf_counter() - t) * 1000)
        searcher.query_cache = 0
        searcher.clear_query_cache()
        recalls: list[float] = []
        ann_ms: list[float] = []
        exact_ms: list[float] = []
        for q in queries:
            qv = emb.embed_query(q)
            t = time.perf_counter()
            got = {h.row["chunk_id"] for h in store.vector_search(qv, 10, allowed, rows=known)}
            ann_ms.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            exact = {h.row["chunk_id"] for h in store.vector_search(qv, 10, allowed, exact=True)}
            exact_ms.append((time.perf_counter() - t) * 1000)
            recalls.append(len(got & exact) / max(1, len(exact)))
        out[name] = {
            "rows": rows,
            "p50_ms": pct(times, 50),
            "p95_ms": pct(times, 95),
            "repeat_query_p50_ms": pct(repeat, 50),
            "repeat_query_p95_ms": pct(repeat, 95),
            "stages_median_ms": median_stages(results),
            "recall_at_10": round(sum(recalls) / len(recalls), 4),
            "recall_at_10_min": round(min(recalls), 2),
            "vector_search_p50_ms": pct(ann_ms, 50),
            "exact_vector_search_p50_ms": pct(exact_ms, 50),
        }
        log(f"filter {name}: {out[name]}")
    t = time.perf_counter()
    for q in queries:
        emb.embed_query(q)
    out["query_embedding_ms_mean"] = round((time.perf_counter() - t) * 1000 / len(queries), 2)
    out["query_rss_growth_mb"] = round(rss_mb() - rss0, 1)
    out["profile_one_query_ms"] = profile_one(store, emb, queries[0])
    searcher.close()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--passages", type=int, default=100_000, help="table size N")
    ap.add_argument("--real", type=int, default=3000, help="real passages embedded and replicated")
    ap.add_argument("--copy-cos", type=float, default=0.9, help="cosine of a copy to its original")
    ap.add_argument("--queries", type=int, default=60, help="real SciFact queries")
    ap.add_argument("--rounds", type=int, default=3, help="times each query is timed")
    ap.add_argument(
        "--index-threshold",
        type=int,
        default=None,
        help="vectors before the ANN index is built (default: the product's)",
    )
    ap.add_argument("--nprobes", type=int, default=None)
    ap.add_argument("--refine-candidates", type=int, default=None)
    ap.add_argument("--exact-filtered-rows", type=int, default=None)
    ap.add_argument("--keep", type=Path, default=None, help="build in this folder and keep it")
    ap.add_argument(
        "--build-only", action="store_true", help="with --keep: build the table, measure nothing"
    )
    ap.add_argument("--cache", type=Path, default=ROOT / "benchmarks" / ".cache" / "scale")
    ap.add_argument("--out", type=Path, default=None, help="default results/scale-<N>.json")
    ap.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    args = ap.parse_args(argv)

    from dataclasses import asdict, replace

    from indexer.ann import AnnConfig
    from models.catalogue import find_model
    from models.embedder import Embedder

    load0 = os.getloadavg()[0]
    ann_cfg = AnnConfig()
    for field, value in (
        ("min_vectors", args.index_threshold),
        ("nprobes", args.nprobes),
        ("refine_candidates", args.refine_candidates),
        ("exact_filtered_rows", args.exact_filtered_rows),
    ):
        if value is not None:
            ann_cfg = replace(ann_cfg, **{field: value})
    emb = Embedder(find_model(Path("/nonexistent-models-dir"), None, "embedding"))
    real = real_passages(args.real)
    vecs = embedded(emb, [t for _, t in real], args.cache)
    queries = real_queries(args.queries)

    tmp = None
    if args.keep is None:
        tmp = tempfile.TemporaryDirectory(prefix="findling-bench-scale-")
        base = Path(tmp.name)
    else:
        base = args.keep
    index_dir, folder = base / "index", base / "docs"
    try:
        meta = base / "built.json"
        key = {"passages": args.passages, "real": len(real), "copy_cos": args.copy_cos}
        if meta.exists() and json.loads(meta.read_text())["key"] == key:
            built = json.loads(meta.read_text())["built"]  # --keep: query-time settings only
            log(f"reusing the table in {base}")
        else:
            if index_dir.exists():
                raise SystemExit(f"{index_dir} holds another build: give an empty --keep folder")
            built = build(index_dir, folder, args.passages, real, vecs, args.copy_cos, ann_cfg)
            meta.write_text(json.dumps({"key": key, "built": built}))
        if args.build_only:
            log(f"built in {base}: {built}")
            return 0
        from indexer import ann
        from indexer.store import ChunkStore

        store = ChunkStore(index_dir, emb.dims, readonly=True, ann=ann_cfg)
        sizes = index_bytes(index_dir, store._table)
        table_bytes = store.size_bytes()
        vec_names = ann.vector_index_names(store._table)
        del store
        m = measure(index_dir, folder, emb, ann_cfg, queries, args.rounds)
    finally:
        if tmp is not None:
            tmp.cleanup()

    n = args.passages
    vec_bytes = sum(sizes.get(x, 0) for x in vec_names)
    fts_bytes = sum(v for k, v in sizes.items() if k.startswith("search_text"))
    target = TARGETS_P95_MS.get(n)
    result = {
        "benchmark": "search at scale",
        "passages": n,
        "real_passages": len(real),
        "vectors": f"{len(real)} real MiniLM vectors, replicated with noise (cosine {args.copy_cos}"
        " to the original), re-normalised; text real, words rotated per copy",
        "embedding_model": emb.model_id,
        "ann": asdict(ann_cfg),
        "vector_index": vec_names[0] if vec_names else None,
        "p50_ms": m["none"]["p50_ms"],
        "p95_ms": m["none"]["p95_ms"],
        "recall_at_10": m["none"]["recall_at_10"],
        "target_p95_ms": target,
        "meets_target": None if target is None else m["none"]["p95_ms"] <= target,
        "filters": {"none": m["none"], "narrow": m["narrow"], "wide": m["wide"]},
        "query_embedding_ms_mean": m["query_embedding_ms_mean"],
        "stages_median_ms": m["none"]["stages_median_ms"],
        "profile_one_query_ms": m["profile_one_query_ms"],
        **built,
        "index_bytes": sizes,
        "vector_index_bytes_per_passage": round(vec_bytes / n, 1),
        "fts_index_bytes_per_passage": round(fts_bytes / n, 1),
        "table_bytes_per_passage": round(table_bytes / n, 1),
        "query_rss_growth_mb": m["query_rss_growth_mb"],
        "process_peak_rss_mb": round(rss_mb("VmHWM"), 1),  # the build too, if built here
        "queries": len(queries),
        "rounds": args.rounds,
        "cpus": os.cpu_count(),
        "loadavg_at_start": round(load0, 2),
        "loadavg_at_end": round(os.getloadavg()[0], 2),
    }
    out = args.out or ROOT / "benchmarks" / "results" / f"scale-{n}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    if args.json:
        print(json.dumps(result))
    else:
        print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    os._exit(code)  # LanceDB's threads can crash while tearing down at interpreter exit

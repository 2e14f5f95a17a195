"""Indexing and search throughput through the real pipeline, against the raw runtime.

Builds a synthetic corpus of multi-page PDFs, indexes it with Findling's pipeline and compares
its chunks/second with the raw ONNX Runtime session embedding the same chunk texts (the ceiling
for this model on this machine). Also reports incremental re-sync time, search latency and peak
memory. Results go to benchmarks/results/index.json.

    .venv/bin/python benchmarks/bench_index.py [--files 120] [--pages 8]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WORDS = [
    "inverter",
    "warranty",
    "battery",
    "panel",
    "grid",
    "voltage",
    "maintenance",
    "contract",
    "invoice",
    "pension",
    "policy",
    "insurance",
    "garden",
    "boiler",
    "valve",
    "pressure",
    "report",
    "budget",
    "meeting",
    "schedule",
    "travel",
    "passport",
    "vaccine",
    "appointment",
    "recipe",
    "ingredient",
    "oven",
    "mortgage",
    "interest",
    "rate",
    "salary",
    "research",
    "experiment",
    "protein",
    "cell",
    "membrane",
    "patient",
    "trial",
    "dosage",
    "outcome",
    "analysis",
]


def make_corpus(folder: Path, files: int, pages: int, seed: int = 7) -> None:
    import pymupdf

    rnd = random.Random(seed)
    for f in range(files):
        doc = pymupdf.open()
        for _ in range(pages):
            paras = []
            for _ in range(4):
                sent = [
                    " ".join(rnd.choices(WORDS, k=rnd.randint(8, 16))).capitalize() + "."
                    for _ in range(rnd.randint(3, 6))
                ]
                paras.append(" ".join(sent))
            doc.new_page().insert_textbox(
                pymupdf.Rect(50, 50, 550, 800), "\n\n".join(paras), fontsize=9
            )
        doc.save(str(folder / f"doc{f:04d}.pdf"))
        doc.close()


def raw_onnx_chunks_per_s(spec, texts: list[str]) -> float:
    """The raw runtime: one onnxruntime session, the tokenizer padded to a fixed 256."""
    import numpy as np
    import onnxruntime as ort
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(spec.tokenizer))
    tok.enable_truncation(max_length=256)
    tok.enable_padding(length=256)
    sess = ort.InferenceSession(str(spec.file), providers=["CPUExecutionProvider"])
    t0 = time.perf_counter()
    for i in range(0, len(texts), 32):
        enc = tok.encode_batch(texts[i : i + 32])
        ids = np.array([e.ids for e in enc], dtype=np.int64)
        mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
        sess.run(
            None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        )
    return len(texts) / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=120)
    ap.add_argument("--pages", type=int, default=8)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "index.json"))
    args = ap.parse_args()

    from indexer.config import IndexConfig
    from indexer.pipeline import Indexer
    from indexer.search import Searcher
    from models.catalogue import find_model
    from models.embedder import Embedder

    spec = find_model(Path("/nonexistent"), None, "embedding")
    emb = Embedder(spec)
    with tempfile.TemporaryDirectory() as tmp:
        docs = Path(tmp) / "docs"
        docs.mkdir()
        make_corpus(docs, args.files, args.pages)
        cfg = IndexConfig(index_dir=Path(tmp) / "index", folders=(docs,))
        t0 = time.perf_counter()
        with Indexer(cfg, emb) as ix:
            report = ix.sync()
            first = time.perf_counter() - t0
            rss_index = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            texts = [r["text"] for r in ix.store._table.to_arrow().select(["text"]).to_pylist()]
            (docs / "doc0000.pdf").unlink()
            t1 = time.perf_counter()
            ix.sync()
            resync = time.perf_counter() - t1
        searcher = Searcher(cfg.index_dir, emb)
        searcher.search("warm up")
        lat = []
        rnd = random.Random(1)
        for _ in range(50):
            q = " ".join(rnd.choices(WORDS, k=4))
            t = time.perf_counter()
            searcher.search(q, 10)
            lat.append((time.perf_counter() - t) * 1000)
        raw = raw_onnx_chunks_per_s(spec, texts[:1500])
        t = time.perf_counter()
        emb.embed(texts[:1500])
        ours_embed = min(1500, len(texts)) / (time.perf_counter() - t)
    result = {
        "files": args.files,
        "pages": args.files * args.pages,
        "chunks": report.chunks,
        "index_seconds": round(first, 2),
        "pages_per_s": round(args.files * args.pages / first, 1),
        "chunks_per_s_pipeline": round(report.chunks / first, 1),
        "chunks_per_s_raw_onnx_fixed256": round(raw, 1),
        "chunks_per_s_findling_embedder": round(ours_embed, 1),
        "pipeline_vs_raw_runtime": round(report.chunks / first / raw, 2),
        "embedder_vs_raw_runtime": round(ours_embed / raw, 2),
        "resync_after_one_delete_s": round(resync, 3),
        "search_ms_p50": round(statistics.median(lat), 1),
        "search_ms_p95": round(sorted(lat)[int(len(lat) * 0.95) - 1], 1),
        "peak_rss_mb_after_indexing": round(rss_index),
        "peak_rss_mb_incl_raw_runtime_run": round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        ),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

"""Child process for the SIGKILL test: indexes a folder and writes where it is to a marker file.

Markers are single ``os.write`` calls on an O_APPEND descriptor, so every line written before a
SIGKILL is on disk. The wrappers only observe, except two test-only widenings: a short pause after
each chunk merge (so kills can land between the LanceDB write and the state update) and a
compaction after every third batch (what a long ``watch`` session does after each change).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path


def main() -> int:
    index_dir, corpus, markers = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    fd = os.open(markers, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def mark(*parts: object) -> None:
        os.write(fd, (" ".join(str(p) for p in parts) + f" @{time.monotonic():.3f}\n").encode())

    mark("START", os.getpid())
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from indexer.config import IndexConfig
    from indexer.pipeline import Indexer
    from indexer.sandbox import SandboxConfig
    from indexer.store import ChunkStore
    from models.catalogue import find_model
    from models.embedder import Embedder

    embedder = Embedder(find_model(Path("/nonexistent-models-dir"), None, "embedding"))
    real_embed = embedder.embed

    def embed(texts):  # type: ignore[no-untyped-def]
        mark("EMBED_START", len(texts))
        out = real_embed(texts)
        mark("EMBED_END", len(texts))
        return out

    embedder.embed = embed  # type: ignore[method-assign]

    real_replace = ChunkStore.replace_docs

    def replace_docs(self, docs, rows):  # type: ignore[no-untyped-def]
        mark("MERGE_START", *docs)
        real_replace(self, docs, rows)
        mark("MERGE_END", *docs)
        time.sleep(0.15)  # widen the window between the chunk write and the state update

    ChunkStore.replace_docs = replace_docs  # type: ignore[method-assign]

    real_delete = ChunkStore.delete_docs

    def delete_docs(self, docs):  # type: ignore[no-untyped-def]
        docs = list(docs)
        mark("DELETE_START", len(docs))
        n = real_delete(self, docs)
        mark("DELETE_END", len(docs))
        return n

    ChunkStore.delete_docs = delete_docs  # type: ignore[method-assign]

    real_optimize = ChunkStore.optimize

    def optimize(self, *a, **kw):  # type: ignore[no-untyped-def]
        mark("OPT_START")
        real_optimize(self, *a, **kw)
        mark("OPT_END")

    ChunkStore.optimize = optimize  # type: ignore[method-assign]

    real_flush = Indexer._flush
    flushes = [0]

    def flush(self, batch, *a, **kw):  # type: ignore[no-untyped-def]
        real_flush(self, batch, *a, **kw)
        mark("COMMITTED", *(h for h, _ in batch))
        flushes[0] += 1
        if flushes[0] % 3 == 0:
            self.optimize()

    Indexer._flush = flush  # type: ignore[method-assign]

    cfg = IndexConfig(
        index_dir=index_dir,
        folders=(corpus,),
        batch_chunks=12,
        sandbox=SandboxConfig(workers=1, timeout_s=60),
        keep_versions_minutes=0.01,
    )
    with Indexer(cfg, embedder) as ix:
        docs = sorted(ix.state.doc_hashes())
        mark("READY", *docs)
        r = ix.sync()
        mark("DONE", r.added, r.updated, r.moved, r.removed, r.embedded)
    os.close(fd)
    return 0


if __name__ == "__main__":
    sys.exit(main())

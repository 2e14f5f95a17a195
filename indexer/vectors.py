"""The embedding stage: give passages their vectors, reusing every vector already made.

Vectors are keyed by the hash of the exact text embedded (:func:`text_hash`), so an edited file
re-embeds only its changed passages, and a moved or copied one none. Two ways in:

* :meth:`VectorStage.attach` — inline, for the few files a watcher batch brings: the passages
  are written with their vectors in one commit;
* :meth:`VectorStage.embed_pending` — the semantic tier, behind the keyword tier: passages
  written without a vector get one, committed every :data:`LARGE_DOC_PASSAGES`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import numpy as np

from indexer.progress import Progress, StopFn, SyncReport, never
from indexer.state import StateDB
from indexer.store import FTS_COLUMN, ChunkStore
from models.embedder import Embedder

Vector = np.ndarray[Any, Any]
# Embed in slices of this many passages, reporting progress (and checking for a stop) between.
EMBED_PROGRESS_STEP = 256
# A document with more passages than this (a long book) is committed in parts of about this size
# while it is embedded, so that an interruption keeps the vectors made so far and a stop request
# is honoured within one slice rather than after the whole book.
LARGE_DOC_PASSAGES = 1024
# Vectors kept in memory between batches (about 75 MB at 384 dimensions).
CACHE_LIMIT = 50_000


def text_hash(text: str) -> str:
    """Key of the embedding cache: the exact text that is embedded."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


class VectorStage:
    """Embeds for one writer.

    Args:
        embedder: The embedding model.
        store: Returns the chunk table (opened lazily by the writer).
        state: The file-state record (counts of passages still without a vector).
        emit: Sends progress on.
    """

    def __init__(
        self,
        embedder: Embedder,
        store: Callable[[], ChunkStore],
        state: StateDB,
        emit: Callable[[Progress], None],
    ) -> None:
        self.embedder = embedder
        self._store = store
        self.state = state
        self._emit = emit
        self.cache: dict[str, Vector] = {}

    def _fill_cache(self, hashes: list[str]) -> None:
        missing = [t for t in dict.fromkeys(hashes) if t not in self.cache]
        if missing:
            self.cache.update(self._store().vectors_for_text_hashes(missing))

    def _trim_cache(self) -> None:
        if len(self.cache) > CACHE_LIMIT:
            self.cache.clear()

    def cached(self, rows: list[dict[str, Any]]) -> None:
        """Give rows the vectors their texts already have (an edited file keeps most), else
        None, without embedding anything."""
        self._fill_cache([r["th"] for r in rows])
        for r in rows:
            r["vector"] = self.cache.get(r["th"])

    def attach(
        self,
        rows: list[dict[str, Any]],
        report: SyncReport,
        progress: Progress | None = None,
        large: set[str] | frozenset[str] = frozenset(),
        stop: StopFn = never,
    ) -> bool:
        """Give every row its vector, embedding only texts not seen before.

        Chunks of ``large`` documents are committed in parts as their vectors are made. Returns
        False when ``stop`` asked to stop between slices (the parts made so far are committed).
        """
        self._fill_cache([r["th"] for r in rows])
        need: dict[str, str] = {}
        for r in rows:
            if r["th"] not in self.cache:
                need.setdefault(r["th"], r[FTS_COLUMN])
        written: set[str] = set()

        def commit_part() -> None:
            part = [
                {**r, "vector": self.cache[r["th"]]}
                for r in rows
                if r["doc"] in large and r["chunk_id"] not in written and r["th"] in self.cache
            ]
            if part:
                self._store().add_rows(part)
                written.update(r["chunk_id"] for r in part)

        keys, values = list(need), list(need.values())
        step = EMBED_PROGRESS_STEP
        since_commit = 0
        for i in range(0, len(values), step):
            if i and stop():
                commit_part()
                report.embedded += i
                return False
            if large and since_commit >= LARGE_DOC_PASSAGES:
                commit_part()
                since_commit = 0
            if progress is not None and len(values) > step:
                progress.passages_done, progress.passages_total = i, len(values)
                self._emit(progress)
            vecs = self.embedder.embed(values[i : i + step])
            for th, v in zip(keys[i : i + step], vecs, strict=True):
                self.cache[th] = v
            since_commit += len(vecs)
            if progress is not None:
                progress.embedded += len(vecs)
        if progress is not None:
            progress.passages_done = progress.passages_total = 0
        report.embedded += len(need)
        report.reused_vectors += len(rows) - len(need)
        for r in rows:
            r["vector"] = self.cache[r["th"]]
        self._trim_cache()
        return True

    def embed_pending(
        self,
        stop: StopFn = never,
        report: SyncReport | None = None,
        progress: Progress | None = None,
    ) -> bool:
        """The semantic tier: give vectors to passages written without one.

        Vectors are committed every :data:`LARGE_DOC_PASSAGES` passages and whenever ``stop``
        asks to stop (checked between slices of :data:`EMBED_PROGRESS_STEP`), so an interruption
        keeps them and a later run embeds only what is still missing. Returns False when stopped.
        """
        report = report if report is not None else SyncReport()
        docs = self.state.unembedded_docs()
        if not docs:
            return True
        total = sum(n for _, n in docs)
        if progress is not None:
            progress.phase = "embedding"
            progress.passages_done, progress.passages_total = 0, total
            self._emit(progress)
        store = self._store()
        done = 0
        for i in range(0, len(docs), 64):
            group = [h for h, _ in docs[i : i + 64]]
            rows = store.unembedded(group)
            left = {h: 0 for h in group}
            for r in rows:
                left[r["doc"]] += 1
            vectors: dict[str, Vector] = {}
            self.cache.update(store.vectors_for_text_hashes({r["th"] for r in rows}))
            need = [r for r in rows if r["th"] not in self.cache]
            for r in rows:
                if r["th"] in self.cache:
                    vectors[r["chunk_id"]] = self.cache[r["th"]]
                    left[r["doc"]] -= 1
            report.reused_vectors += len(rows) - len(need)
            step = EMBED_PROGRESS_STEP
            for j in range(0, len(need), step):
                if stop():
                    self._commit(vectors, left)
                    return False
                part = need[j : j + step]
                texts = list(dict.fromkeys(r[FTS_COLUMN] for r in part))
                made = dict(zip(texts, self.embedder.embed(texts), strict=True))
                for r in part:
                    v = made[r[FTS_COLUMN]]
                    self.cache[r["th"]] = v
                    vectors[r["chunk_id"]] = v
                    left[r["doc"]] -= 1
                report.embedded += len(texts)
                done += len(part)
                if progress is not None:
                    progress.embedded += len(texts)
                    progress.passages_done = done
                    self._emit(progress)
                if len(vectors) >= LARGE_DOC_PASSAGES:
                    self._commit(vectors, left)
            self._commit(vectors, left)
            self._trim_cache()
        if progress is not None:
            progress.passages_done = progress.passages_total = 0
        return True

    def _commit(self, vectors: dict[str, Vector], left: dict[str, int]) -> None:
        """Write ``vectors`` (then forget them) and each document's count still without one:
        LanceDB first, so a crash between the two only makes a later run look for nothing."""
        self._store().set_vectors(vectors)
        with self.state.transaction() as c:
            for h, n in left.items():
                self.state.set_unembedded(c, h, n)
        vectors.clear()

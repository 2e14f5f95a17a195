"""The indexing loop: scan, decide what changed, extract, embed, write — crash-safely.

Write order (what makes any interruption recoverable, including SIGKILL and power loss):

1. A batch's chunks are written to LanceDB in one atomic merge (keyed by content hash).
2. Then one SQLite transaction records those documents and points the files at them.
3. Removals go the other way: SQLite rows first, then the chunks.

On start, :func:`indexer.build.recover` reconciles the two stores. An index made by another
model or chunker is not dropped: this writer builds a new generation beside it, which replaces
it when complete (:mod:`indexer.generations`). Around this loop:
:mod:`indexer.build` (what built the index, clean close, recovery), :mod:`indexer.vectors`
(the embedding stage), :mod:`indexer.progress` (progress, report, the run),
:mod:`indexer.scan` (what is in the folders) and :mod:`indexer.sandbox` (extraction workers).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import sqlite3
import sys
import time
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any

from indexer import build, generations, vectors
from indexer.ann_build import AnnBuilder
from indexer.build import Build, BuildRecord, open_state
from indexer.config import IndexConfig
from indexer.generations import Pointer
from indexer.layout import IndexLayout
from indexer.lock import WriterLock
from indexer.progress import Progress, ProgressFn, Run, StopFn, SyncReport, never
from indexer.sandbox import Extracted, ExtractorPool
from indexer.scan import FileInfo, IgnoreRules, content_hash, find, looked_at_fn, under
from indexer.state import EMBED_PROVIDER, FileRow, StateDB
from indexer.states import FileState, is_failure
from indexer.store import ChunkStore
from indexer.vectors import VectorStage, text_hash
from models.embedder import Embedder

log = logging.getLogger(__name__)

# A run that extracts more files than this writes them for keyword search first and embeds
# them afterwards (the two tiers); up to this many are embedded as they are written.
INLINE_EMBED_FILES = 16
# A watcher batch compacts the table only after this many changed files or this much time
# since the last compaction (a full run always compacts at its end).
OPTIMIZE_EVERY_CHANGES = 200
OPTIMIZE_EVERY_S = 600.0
# Rough processor seconds OCR takes per scanned page on a slow machine (measured 4.5 s wall at
# 150 dpi on 2 cores, benchmarks/results/ocr.json): an OCR round reads as many new pages as
# the per-file time budget allows.
OCR_SECONDS_PER_PAGE = 6.0

# State meta of a generation being built: a full scan of the folders has recorded every file in
# it (so that no PENDING file means every file is in), the first condition of the switch.
SCANNED = "rebuild_scanned"

# Files waiting for extraction, by content hash (copies share one extraction).
Todo = dict[str, list[tuple[FileInfo, Path]]]


class Indexer:
    """The only writer of an index. Holds the writer lock for its lifetime.

    When the index that answers searches was made by another build (embedding model, width,
    chunker), this writer writes a new generation instead (``replacing`` names the old build)
    and, at the end of the first :meth:`sync` or :meth:`catch_up` that leaves it complete,
    makes it the one that answers and deletes the old one (``SyncReport.switched``).

    Args:
        config: What to index and how.
        embedder: The embedding model; the index records its id and width.
        lock: An already-acquired lock to use (e.g. one the app took), else one is taken here.
        on_progress: Called with a :class:`Progress` as files are processed.

    Raises:
        IndexLockedError: another process is writing this index.
    """

    def __init__(
        self,
        config: IndexConfig,
        embedder: Embedder,
        *,
        lock: WriterLock | None = None,
        on_progress: ProgressFn | None = None,
    ) -> None:
        self.config = config
        self.embedder = embedder
        self.on_progress = on_progress
        self._own_lock = lock is None
        self.lock = lock or WriterLock(config.index_dir, role="indexer")
        if not self.lock.held:
            self.lock.acquire()
        self.layout: IndexLayout
        self.replacing: Build | None  # the active generation's build, while building another
        self.layout, self.replacing = build.choose_generation(config.index_dir, Build.of(embedder))
        self.state: StateDB
        self.state, self.rebuilt = open_state(self.layout.state)
        self.build = BuildRecord(self.state, self.layout, embedder)
        # Which execution provider embeds (``findling status`` shows it without loading a model).
        provider = str(getattr(embedder, "provider", "unknown"))
        if self.state.get_meta(EMBED_PROVIDER) != provider:
            self.state.set_meta(EMBED_PROVIDER, provider)
        self._store: ChunkStore | None = None
        # Trains the approximate vector index on a connection of its own, so that a build
        # (minutes at a few hundred thousand passages) never holds up indexing.
        self.ann = AnnBuilder(self._open_builder_table, config.ann)
        self.vectors = VectorStage(embedder, lambda: self.store, self.state, self._emit)
        # The last writer closed cleanly and nothing has changed the build: LanceDB and the
        # state record agree, so the table is opened only when this run needs it (a no-op
        # re-index then never loads LanceDB, which alone takes seconds to import).
        fast = self.build.closed_cleanly() and self.build.matches()
        if not fast:
            try:
                self._store = self._open_store()
            except Exception as exc:  # lancedb raises many types for a damaged folder
                log.error("Index damaged (%s); rebuilding from the files", exc)
                self._reset_store()
                self.rebuilt = f"The index was damaged and is being rebuilt: {exc}"
            else:
                self.rebuilt = self.build.check(self._store) or self.rebuilt
        if self.replacing is not None:
            self.rebuilt = self.rebuilt or (
                f"The index was built with {self.replacing}; re-indexing with "
                f"{self.build.want} in the background. Search uses the old index until "
                "the new one is complete."
            )
        self.rules = IgnoreRules(config.ignore, config.excluded)
        self._pool: ExtractorPool | None = None
        self._semantic = True  # whether the current run embeds (see sync)
        self._embed_inline = True  # whether _flush embeds (see _process)
        self._changes_since_optimize = 0
        self._last_optimize = time.monotonic()
        self._ocr_stalled: set[str] = set()  # documents whose OCR rounds made no progress
        if fast:
            return
        try:
            self.recover()
        except Exception as exc:  # damaged data files only show when the table is read
            if isinstance(exc, sqlite3.Error):
                raise
            log.error("Index damaged (%s); rebuilding from the files", exc)
            self._reset_store()
            self.rebuilt = f"The index was damaged and is being rebuilt: {exc}"
            self.recover()
        if not self.store.empty and self.store.ensure_fts():
            log.info("Full-text index rebuilt with the current tokenizer settings")

    # -- the table, opened when needed ------------------------------------------------------------
    @property
    def store(self) -> ChunkStore:
        """The LanceDB chunk table (opened on first use)."""
        if self._store is None:
            self._store = self._open_store()
        return self._store

    def _open_store(self) -> ChunkStore:
        self.build.mark_open()
        return ChunkStore(self.layout, self.embedder.dims, ann=self.config.ann)

    def _open_builder_table(self) -> Any:
        return ChunkStore(self.layout, self.embedder.dims, ann=self.config.ann)._table

    def _reset_store(self) -> None:
        shutil.rmtree(self.layout.lance, ignore_errors=True)
        self._store = self._open_store()
        self.build.forget_all()

    def recover(self) -> None:
        """Reconcile LanceDB and the state record after any interruption."""
        build.recover(self.state, self.store)

    # -- lifecycle ----------------------------------------------------------------------------
    def close(self) -> None:
        """Stop workers, close the databases and release the writer lock.

        Closing while no exception is being raised records a clean close (see ``store``). A
        vector index being built is waited for (it commits, or the next writer would find the
        index missing with nothing left to build it); one only asked for is dropped, and the
        next :meth:`request_vector_index` asks again."""
        self.ann.close()
        if self._pool is not None:
            self._pool.close()
            self._pool = None
        if not _raising():
            self.build.mark_closed(fts_checked=self._store is not None)
        self.state.close()
        if self._own_lock:
            self.lock.release()

    def reconfigure(self, config: IndexConfig) -> None:
        """Use new settings (folders, ignore patterns, limits) from the next sync on."""
        self.config = config
        self.rules = IgnoreRules(config.ignore, config.excluded)
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def __enter__(self) -> Indexer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the main entry points ---------------------------------------------------------------
    def sync(
        self,
        should_stop: StopFn | None = None,
        paths: Iterable[Path] | None = None,
        *,
        semantic: bool = True,
        interrupt: StopFn | None = None,
    ) -> SyncReport:
        """Bring the index up to date with the configured folders.

        Args:
            should_stop: Polled between files; when it returns True the run stops after
                committing the work already done.
            paths: Only look at these paths (files or folders, existing or not), e.g. from the
                watcher. ``None`` rescans every configured folder.
            semantic: Also embed (the second tier). False writes new passages for keyword
                search only, at extraction speed; a later run with ``semantic=True`` (or
                :meth:`embed_pending`) gives them vectors.
            interrupt: Polled by the work that runs behind the index (OCR rounds, the
                semantic tier): True hands the writer back, e.g. to a watcher with new
                changes, which are made keyword-searchable first; :meth:`catch_up` resumes.
        """
        t0 = time.monotonic()
        run = Run(stop=should_stop or never, report=SyncReport(rebuilt=self.rebuilt))
        report = run.report
        self.rebuilt = None
        self._semantic = semantic
        run.progress.phase = "scanning"
        self._emit(run.progress)
        roots = [Path(os.path.abspath(f)) for f in self.config.folders]
        paths = None if paths is None else [Path(os.path.abspath(q)) for q in paths]
        reachable = self._reachable(roots, report)
        seen = find(reachable, paths, self.rules)
        # A watcher batch looks only at the records of its own paths (and what lies under
        # them), so one saved file costs the same in a folder of ten or ten thousand files.
        rows = self.state.files() if paths is None else self.state.files_at(map(str, paths))
        known = run.known = {r.path: r for r in rows}
        # Files that are gone (only where we looked, and only on reachable folders).
        looked_at = looked_at_fn(reachable, paths)
        removed = [
            p
            for p, row in known.items()
            if p not in seen and row.state != FileState.OFFLINE and looked_at(Path(p))
        ]
        if paths is None:  # files of folders no longer configured
            removed += [p for p in known if not any(under(Path(p), r) for r in roots)]
        todo: list[tuple[FileInfo, Path]] = []
        for p, (fi, root) in seen.items():
            row = known.get(p)
            if (
                row is None
                or row.state in (FileState.PENDING, FileState.OFFLINE)
                or (row.size, row.mtime_ns) != (fi.size, fi.mtime_ns)
            ):
                todo.append((fi, root))
            else:
                report.unchanged += 1
        new_files = [(fi, root) for fi, root in todo if str(fi.path) not in known]
        if new_files:  # so that `status` can show them as pending while this run works
            with self.state.transaction() as c:
                for fi, root in new_files:
                    self.state.upsert_file(c, _file_row(fi, root, None, FileState.PENDING))
        if paths is None and self.replacing is not None:
            self.state.set_meta(SCANNED, "1")
        run.progress = Progress(
            phase="indexing", total=len(todo), bytes_total=sum(fi.size for fi, _ in todo)
        )
        self._emit(run.progress)
        if todo:
            self._process(todo, run)
        gone = set(removed)
        self._remove(gone)
        # A rename's old path is the other half of a move, not a removal.
        report.removed += sum(1 for p in gone if known[p].hash not in report.moved_hashes)
        if paths is None:
            self._ocr_stalled.clear()  # a full run tries every file's OCR again
        self._behind(run, interrupt, semantic)
        report.stopped = run.stop()
        if paths is None and not report.stopped:
            self._drop_stale_parts()
        # Vectors written by the semantic tier alone change the table too: compact them and let
        # the approximate vector index take them in (or be built once there are enough).
        self._changes_since_optimize += (
            report.added + report.updated + report.moved + report.removed + report.failed
        ) + (report.embedded + report.reused_vectors)
        if self._changes_since_optimize and not report.stopped and self._optimize_due(paths):
            self._emit(run.progress.finished("finishing"))
            self.optimize()
        self._switch_when_complete(report)
        report.seconds = time.monotonic() - t0
        report.semantic_pending = self.state.semantic_pending()[0]
        self._emit(run.progress.finished("idle"))
        return report

    def is_behind(self) -> bool:
        """Whether work behind the index is left: passages without vectors, or scanned pages
        to read (other than files whose OCR made no progress in this session)."""
        if self.state.semantic_pending()[0]:
            return True
        return any(h not in self._ocr_stalled for h, _ in self.state.ocr_pending_docs())

    def catch_up(self, stop: StopFn | None = None, interrupt: StopFn | None = None) -> SyncReport:
        """Resume the work behind the index (OCR rounds, then the semantic tier) until done,
        stopped or interrupted."""
        t0 = time.monotonic()
        run = Run(stop=stop or never, progress=Progress(phase="embedding"))
        self._behind(run, interrupt)
        report = run.report
        self._changes_since_optimize += report.embedded + report.reused_vectors
        done = not run.stop() and not (interrupt is not None and interrupt())
        if done and self._changes_since_optimize and not self.is_behind():
            self.optimize()
        if done:
            self._switch_when_complete(report)
        report.seconds = time.monotonic() - t0
        report.semantic_pending = self.state.semantic_pending()[0]
        self._emit(run.progress.finished("idle"))
        return report

    def embed_pending(
        self,
        stop: StopFn = never,
        report: SyncReport | None = None,
        progress: Progress | None = None,
    ) -> bool:
        """The semantic tier: give vectors to passages written without one (see
        :meth:`indexer.vectors.VectorStage.embed_pending`). Returns False when stopped."""
        return self.vectors.embed_pending(stop, report, progress)

    def read_scans(
        self,
        stop: StopFn = never,
        report: SyncReport | None = None,
        progress: Progress | None = None,
    ) -> bool:
        """OCR rounds: read the scanned pages that extraction left for later.

        A file extracts with a budget of new OCR pages (``ExtractLimits.ocr_pages``); this
        stage, which runs once every file's text is in, re-extracts files with pages left, in
        the sandboxed workers with a fresh budget per round. Pages already read come from the
        OCR cache, so each round (and a run resumed after a stop or a crash) only reads pages
        not read before. Returns False when stopped.
        """
        report = report if report is not None else SyncReport()
        budget = max(1, min(100, int(self.config.sandbox.timeout_s / OCR_SECONDS_PER_PAGE)))
        if self.config.limits.ocr_cache_dir is None:
            budget = 100_000  # without a cache a round cannot resume: read every page at once
        limits = dataclasses.replace(self.config.limits, ocr_pages=budget)
        last: dict[str, int] = {}
        while not stop():
            docs = dict(self.state.ocr_pending_docs())
            # A file that made no progress in the last round (OCR unavailable, a page that
            # fails every time) waits for the next run rather than looping here.
            self._ocr_stalled.update(h for h, n in docs.items() if last.get(h, n + 1) <= n)
            docs = {h: n for h, n in docs.items() if h not in self._ocr_stalled}
            if not docs:
                return True
            last = docs
            files = self.state.paths_for_docs(list(docs))
            to_extract: Todo = {}
            for h in docs:
                entries = [
                    (FileInfo(Path(r.path), r.size, r.mtime_ns), Path(r.folder))
                    for r in files.get(h, [])
                    if r.state == FileState.INDEXED
                ]
                if entries:
                    to_extract[h] = entries
            if not to_extract:
                return True
            if progress is not None:
                progress.phase = "reading scanned pages"
                progress.current = str(next(iter(to_extract.values()))[0][0].path)
                self._emit(progress)
            by_path = {str(e[0][0].path): h for h, e in to_extract.items()}
            self._embed_inline = False  # the semantic tier embeds the new pages' passages
            # The files' own counts were made by the run that indexed them.
            scratch = Run(stop=stop, progress=Progress(phase="reading scanned pages"))
            first = [e[0][0].path for e in to_extract.values()]
            for ex in self._extractors().run(first, stop, limits):
                h = by_path[str(ex.path)]
                if not ex.ok:
                    log.warning("OCR round for %s failed: %s", ex.path, ex.reason)
                    continue  # its text so far stays searchable; the next run tries again
                try:
                    same = content_hash(ex.path) == h
                except OSError:
                    same = False
                if not same:
                    continue  # changed or gone since: the next scan redoes it
                if not self._flush([(h, ex)], {h: to_extract[h]}, scratch):
                    return False
                report.chunks += len(ex.chunks)
                log.info("%s: %d scanned page(s) still to read", ex.path, ex.ocr_pending)
        return False

    def purge_folder(self, folder: Path) -> int:
        """Forget every file under ``folder`` (the user removed it from the configuration)."""
        root = Path(os.path.abspath(folder))
        gone = {r.path for r in self.state.files() if under(Path(r.path), root)}
        self._remove(gone)
        return len(gone)

    def optimize(self) -> None:
        """Compact LanceDB, fold new rows into its indexes and delete old versions so the index
        does not grow without bound; then ask the background builder to build, retrain or drop
        the approximate vector index as the size asks (this returns before it is done)."""
        self._changes_since_optimize = 0
        self._last_optimize = time.monotonic()
        try:
            with self.ann.idle() as free:
                if free:
                    self.store.optimize(
                        timedelta(minutes=self.config.keep_versions_minutes), build_index=False
                    )
                else:
                    # Compaction rewrites the fragments being indexed: it waits for the next
                    # optimize point. New rows are searched exactly meanwhile.
                    self._changes_since_optimize = 1
                    log.info("Vector index being built; compaction deferred")
            self.request_vector_index()
        except Exception as exc:  # compaction is housekeeping: never fail a run for it
            log.warning("Index compaction failed: %s", exc)

    def request_vector_index(self) -> None:
        """Have the approximate vector index checked (built, retrained, dropped) in the
        background; returns at once (:meth:`wait_for_vector_index` waits)."""
        # The state database knows how many passages still wait for a vector, which spares
        # the builder a scan of the vector column to size the approximate index.
        vectors = max(0, self.store.count() - self.state.semantic_pending()[0])
        self.ann.request(vectors)

    def wait_for_vector_index(self, timeout: float | None = None) -> bool:
        """Wait until no vector index build is queued or running; False on timeout."""
        return self.ann.wait(timeout)

    # -- the switch to a new generation -----------------------------------------------------------
    def rebuild_complete(self) -> bool:
        """Whether the generation being built holds every file, in both tiers: a full scan
        recorded them all, none is still pending, and no passage or scanned page waits.

        Files changed while it was being built are in too: they reached this writer (watcher
        batches, rescans) and were written here, never to the old generation.
        """
        return (
            self.replacing is not None
            and self.state.get_meta(SCANNED) == "1"
            and not self.state.counts().get(FileState.PENDING)
            and not self.state.partial_docs()
            and not self.is_behind()
        )

    def _switch_when_complete(self, report: SyncReport) -> None:
        """Make the generation being built the one that answers, once it is complete; then
        delete the old one. One atomic write of the pointer is the switch: a crash before it
        leaves the old generation answering and this one to resume, a crash after it leaves
        the old one for the next writer to delete."""
        if not self.rebuild_complete():
            return
        old = generations.read_pointer(self.config.index_dir).active
        if self._changes_since_optimize:
            self.optimize()  # compacted before it answers (its vector index follows, built behind)
        generations.write_pointer(self.config.index_dir, Pointer(self.layout.generation))
        log.info("Switched the index to %s (%s)", self.layout.generation, self.build.want)
        report.switched = (
            f"The new index is complete: search now uses {self.build.want} "
            f"instead of {self.replacing}"
        )
        self.replacing = None
        self.state.set_meta(SCANNED, "")
        generations.remove(IndexLayout(self.config.index_dir, old))

    # -- steps ----------------------------------------------------------------------------------
    def _reachable(self, roots: list[Path], report: SyncReport) -> list[Path]:
        """The configured folders that can be read now; the others' files are kept offline."""
        reachable: list[Path] = []
        for root in roots:
            if not root.is_dir():
                n = self.state.set_folder_online(str(root), False)
                report.offline_folders.append(str(root))
                log.warning(
                    "Folder %s is not reachable; keeping its %d file(s) as offline", root, n
                )
                continue
            self.state.set_folder_online(str(root), True)
            reachable.append(root)
        return reachable

    def _behind(self, run: Run, interrupt: StopFn | None, semantic: bool = True) -> None:
        """The work behind the index: OCR rounds, then the semantic tier."""

        def halt() -> bool:
            return run.stop() or (interrupt is not None and interrupt())

        if not halt():
            self.read_scans(halt, run.report, run.progress)
        if semantic and not halt():
            self.embed_pending(halt, run.report, run.progress)

    def _optimize_due(self, paths: Iterable[Path] | None) -> bool:
        """Whether this run ends with compaction: a full run does; a watcher batch only once
        enough changes or time have accumulated, since compaction costs time that grows with
        the index while each batch is small (the full-text index flat-searches new rows)."""
        if paths is None:
            return True
        return (
            self._changes_since_optimize >= OPTIMIZE_EVERY_CHANGES
            or time.monotonic() - self._last_optimize >= OPTIMIZE_EVERY_S
        )

    def _extractors(self) -> ExtractorPool:
        if self._pool is None:
            tokenizer = self.embedder.spec.tokenizer
            assert tokenizer is not None
            self._pool = ExtractorPool(
                tokenizer, self.config.chunker, self.config.limits, self.config.sandbox
            )
        return self._pool

    def _process(self, todo: list[tuple[FileInfo, Path]], run: Run) -> None:
        """Hash the changed files; record the ones whose content is already indexed (moves,
        copies, touched files); extract, embed and commit the rest in batches."""
        report, progress = run.report, run.progress
        to_extract: Todo = {}
        for fi, root in todo:
            if run.stop():
                return
            p = str(fi.path)
            try:
                h = content_hash(fi.path)
            except OSError as exc:
                self._fail(fi, root, FileState.UNREADABLE, _os_reason(exc), run)
                continue
            row = run.known.get(p)
            doc = self.state.doc(h)
            if doc is not None:
                with self.state.transaction() as c:
                    self.state.upsert_file(
                        c, _file_row(fi, root, h, FileState.INDEXED, chunks=int(doc["chunks"]))
                    )
                if row is not None and row.hash == h:
                    report.unchanged += 1
                elif row is None or row.hash is None:
                    report.moved += 1  # the content is already indexed: a move, copy or rename
                    report.moved_hashes.add(h)
                else:
                    report.updated += 1
                progress.file_done(fi.size)
                self._emit(progress)
                continue
            if row is not None and row.hash == h and is_failure(row.state):
                # Same bytes that failed before: do not retry forever, just note the new mtime.
                with self.state.transaction() as c:
                    self.state.upsert_file(c, _file_row(fi, root, h, row.state, row.reason))
                progress.file_done(fi.size, failed=True)
                continue
            to_extract.setdefault(h, []).append((fi, root))
        if not to_extract:
            return
        # A few changed files (the watcher's usual case) get their vectors in the same commit,
        # so they appear in both tiers at once; a larger set is made keyword-searchable first
        # and embedded behind it (embed_pending), so the whole folder can be found early.
        self._embed_inline = self._semantic and len(to_extract) <= INLINE_EMBED_FILES
        by_path = {str(entries[0][0].path): h for h, entries in to_extract.items()}
        batch: list[tuple[str, Extracted]] = []
        batch_chunks = 0
        first = [entries[0][0].path for entries in to_extract.values()]
        progress.current = str(first[0])  # being read; updated as results come in
        self._emit(progress)
        for ex in self._extractors().run(first, run.stop):
            h = by_path[str(ex.path)]
            progress.current = str(ex.path)
            if not ex.ok:
                for fi, root in to_extract[h]:
                    # Keep the hash so the same bytes are not retried on every touch.
                    state = ex.state or FileState.FAILED
                    self._fail(fi, root, state, ex.reason or "", run, h)
                continue
            batch.append((h, ex))
            batch_chunks += len(ex.chunks)
            if batch_chunks >= self.config.batch_chunks:
                if not self._flush(batch, to_extract, run):
                    return
                batch, batch_chunks = [], 0
        if batch:
            self._flush(batch, to_extract, run)

    def _flush(self, batch: list[tuple[str, Extracted]], to_extract: Todo, run: Run) -> bool:
        """Embed and commit a batch of extracted documents; False when stopped part-way."""
        report, progress = run.report, run.progress
        rows = _passage_rows(batch)
        progress.current = str(to_extract[batch[-1][0]][0][0].path)
        progress.batch_bytes = sum(fi.size for h, _ in batch for fi, _root in to_extract[h])
        progress.batch_files = len(batch)
        unembedded: dict[str, int] = {}
        if self._embed_inline:
            large = {h for h, ex in batch if len(ex.chunks) > vectors.LARGE_DOC_PASSAGES}
            if large:
                self.state.mark_partial(sorted(large))
            if not self.vectors.attach(rows, report, progress, large, run.stop):
                return False
        else:
            # Keyword tier: the passages go in now; vectors only where the same text has one.
            large = set()
            self.vectors.cached(rows)
            for r in rows:
                if r["vector"] is None:
                    unembedded[r["doc"]] = unembedded.get(r["doc"], 0) + 1
        self.store.replace_docs([h for h, _ in batch], rows)
        with self.state.transaction() as c:
            if large:
                self.state.clear_partial(c, sorted(large))
            for h, ex in batch:
                self.state.add_doc(
                    c,
                    h,
                    len(ex.chunks),
                    ex.pages,
                    ex.title,
                    unembedded=unembedded.get(h, 0),
                    ocr_pending=ex.ocr_pending,
                )
                for fi, root in to_extract[h]:
                    row = _file_row(fi, root, h, FileState.INDEXED, chunks=len(ex.chunks))
                    self.state.upsert_file(c, row)
                    prev = run.known.get(row.path)
                    if prev is not None and prev.hash is not None:
                        report.updated += 1
                    else:
                        report.added += 1  # new, or recorded as pending by an earlier run
                    progress.file_done(fi.size)
        progress.batch_bytes = progress.batch_files = 0
        report.chunks += len(rows)
        self._emit(progress)
        return True

    def _fail(
        self,
        fi: FileInfo,
        root: Path,
        state: str,
        reason: str,
        run: Run,
        hash_: str | None = None,
    ) -> None:
        with self.state.transaction() as c:
            self.state.upsert_file(c, _file_row(fi, root, hash_, state, reason))
        log.info("Not indexed: %s (%s: %s)", fi.path, state, reason)
        run.report.failed += 1
        run.progress.file_done(fi.size, failed=True)
        self._emit(run.progress)

    def _remove(self, paths: set[str]) -> None:
        """Forget these files, and the chunks of documents no file refers to any more."""
        if paths:
            with self.state.transaction() as c:
                self.state.delete_files(c, paths)
        orphans = self.state.unreferenced_docs()
        if orphans:
            with self.state.transaction() as c:
                self.state.delete_docs(c, orphans)
            self.store.delete_docs(orphans)

    def _drop_stale_parts(self) -> None:
        """Remove parts of documents that a complete run did not finish (the file vanished or
        changed while it was being indexed)."""
        stale = self.state.partial_docs()
        if stale:
            self.store.delete_docs(stale)
            with self.state.transaction() as c:
                self.state.clear_partial(c, stale)
            log.info("Removed the parts of %d unfinished document(s)", len(stale))

    def _emit(self, progress: Progress) -> None:
        if self.on_progress is not None:
            self.on_progress(progress)


def _file_row(
    fi: FileInfo,
    root: Path,
    hash_: str | None,
    state: str,
    reason: str | None = None,
    *,
    chunks: int = 0,
) -> FileRow:
    return FileRow(str(fi.path), str(root), fi.size, fi.mtime_ns, hash_, state, reason, chunks)


def _passage_rows(batch: list[tuple[str, Extracted]]) -> list[dict[str, Any]]:
    """The chunk table's rows for a batch of extracted documents (vectors still to attach)."""
    return [
        {
            "chunk_id": f"{h}:{ch.ordinal}",
            "doc": h,
            "ordinal": ch.ordinal,
            "page": ch.page,
            "heading": ch.heading,
            "text": ch.text,
            "search_text": ch.embed_text,
            "start": ch.start,
            "end": ch.end,
            "th": text_hash(ch.embed_text),
        }
        for h, ex in batch
        for ch in ex.chunks
    ]


def _raising() -> bool:
    return sys.exc_info()[0] is not None


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "Permission denied: Findling cannot read this file"
    if isinstance(exc, FileNotFoundError):
        return "The file vanished before it could be read"
    return f"Cannot read the file: {exc.strerror or exc}"

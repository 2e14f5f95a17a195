"""The indexing loop: scan, decide what changed, extract, embed, write — crash-safely.

Write order (what makes any interruption recoverable, including SIGKILL and power loss):

1. A batch's chunks are written to LanceDB in one atomic merge (keyed by content hash).
2. Then one SQLite transaction records those documents and points the files at them.
3. Removals go the other way: SQLite rows first, then the chunks.

On start, :meth:`Indexer.recover` reconciles the two stores: chunks written by a batch whose
SQLite commit never happened are *adopted* (the work is kept, not redone), documents whose chunks
are missing or incomplete are dropped and their files re-queued.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import sqlite3
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

from indexer.chunk import CHUNKER_VERSION
from indexer.config import IndexConfig
from indexer.lock import WriterLock
from indexer.sandbox import Extracted, ExtractorPool
from indexer.scan import FileInfo, IgnoreRules, content_hash, walk
from indexer.state import INDEXED, OFFLINE, PENDING, StateDB
from indexer.store import FTS_COLUMN as FTS_TEXT
from indexer.store import FTS_INDEX_NAME, ChunkStore
from models.embedder import Embedder

log = logging.getLogger(__name__)

StopFn = Callable[[], bool]
BUILD_FILE = "findling-build.json"
CLEAN_CLOSE = "clean_close"  # state meta: "1" when the last writer closed without an error
FTS_NAME = "fts_index"  # state meta: the full-text index settings checked at that close
LANCE_FINGERPRINT = "lance_fingerprint"  # state meta: the table's files at that clean close
# Embed a large batch in slices of this many passages, reporting progress between them.
EMBED_PROGRESS_STEP = 256
# A document with more passages than this (a long book) is committed in parts of about this size
# while it is embedded, so that an interruption keeps the vectors made so far and a stop request
# is honoured within one slice rather than after the whole book.
LARGE_DOC_PASSAGES = 1024
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


@dataclass
class Progress:
    """Where a sync run stands; sent to the progress callback."""

    phase: str = "idle"
    done: int = 0
    total: int = 0
    current: str | None = None
    failed: int = 0
    started: float = field(default_factory=time.monotonic)
    bytes_done: int = 0
    bytes_total: int = 0
    # Passages of the file(s) now being embedded: a long book takes minutes on its own.
    passages_done: int = 0
    passages_total: int = 0
    batch_bytes: int = 0  # size of the files those passages come from
    batch_files: int = 0  # how many files they are (``current`` is one of them)
    embedded: int = 0  # passages embedded in this run so far
    ended: float | None = None  # when the run finished: its speeds stop moving then

    def doing(self) -> str:
        """``book.pdf and 3 other files (256/1,024 passages)``: what is in hand, for a status."""
        if not self.current:
            return ""
        text = Path(self.current).name
        if len(text) > 48:
            text = text[:47] + "…"
        if self.batch_files > 1:
            others = self.batch_files - 1
            text += f" and {others} other file{'s' if others > 1 else ''}"
        if self.passages_total:
            text += f" ({self.passages_done:,}/{self.passages_total:,} passages)"
        return text

    @property
    def work_done(self) -> float:
        """Bytes finished, counting the embedded share of the files in hand."""
        inside = 0.0
        if self.passages_total:
            inside = self.batch_bytes * self.passages_done / self.passages_total
        return self.bytes_done + inside

    @property
    def fraction(self) -> float:
        """0–1 of the run's work; by bytes where sizes are known, else by files."""
        if self.bytes_total:
            return min(1.0, self.work_done / self.bytes_total)
        return self.done / self.total if self.total else 1.0

    @property
    def elapsed(self) -> float:
        """Seconds since the run started (up to its end, once it has ended)."""
        return (self.ended if self.ended is not None else time.monotonic()) - self.started

    @property
    def rate(self) -> float:
        """Files per second so far."""
        elapsed = self.elapsed
        return self.done / elapsed if elapsed > 0 else 0.0

    @property
    def passage_rate(self) -> float:
        """Passages embedded per second so far (what moves while one long book is read)."""
        elapsed = self.elapsed
        return self.embedded / elapsed if elapsed > 0 else 0.0

    def finished(self, phase: str) -> Progress:
        """A snapshot for after the files are done: same counts and clock, clock stopped."""
        return dataclasses.replace(
            self,
            phase=phase,
            current=None,
            passages_done=0,
            passages_total=0,
            batch_files=0,
            ended=self.ended if self.ended is not None else time.monotonic(),
        )

    @property
    def eta_s(self) -> float | None:
        """Estimated seconds left, once there is a rate to go by.

        Goes by bytes when sizes are known (one 2,000-page book is not one small note), else
        by files.
        """
        elapsed = self.elapsed
        if elapsed <= 0 or not self.total:
            return None
        done = self.work_done
        if self.bytes_total and done:
            return max(0.0, self.bytes_total - done) * elapsed / done
        r = self.rate
        return (self.total - self.done) / r if r > 0 else None

    def file_done(self, size: int, *, failed: bool = False) -> None:
        """Count one file as finished."""
        self.done += 1
        self.bytes_done += size
        if failed:
            self.failed += 1


@dataclass
class SyncReport:
    """What a sync run did."""

    added: int = 0
    updated: int = 0
    moved: int = 0
    removed: int = 0
    failed: int = 0
    unchanged: int = 0
    chunks: int = 0
    embedded: int = 0
    reused_vectors: int = 0
    offline_folders: list[str] = field(default_factory=list)
    stopped: bool = False
    rebuilt: str | None = None
    seconds: float = 0.0
    semantic_pending: int = 0  # passages still without a vector when the run ended
    moved_hashes: set[str] = field(default_factory=set, repr=False)  # contents that moved

    @property
    def changed(self) -> bool:
        """Whether the index changed."""
        return bool(self.added or self.updated or self.moved or self.removed or self.failed)


ProgressFn = Callable[[Progress], None]


def text_hash(text: str) -> str:
    """Key of the embedding cache: the exact text that is embedded."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


class Indexer:
    """The only writer of an index. Holds the writer lock for its lifetime.

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
        self.rebuilt: str | None = None
        self.state = self._open_state(config.index_dir / "state.sqlite")
        self._store: ChunkStore | None = None
        # The last writer closed cleanly and nothing has changed the build: LanceDB and the
        # state record agree, so the table is opened only when this run needs it (a no-op
        # re-index then never loads LanceDB, which alone takes seconds to import).
        fast = self._closed_cleanly() and self._build_matches()
        if not fast:
            try:
                self._store = self._open_store()
            except Exception as exc:  # lancedb raises many types for a damaged folder
                log.error("Index damaged (%s); rebuilding from the files", exc)
                self._reset_store()
                self.rebuilt = f"The index was damaged and is being rebuilt: {exc}"
            else:
                self.rebuilt = self._check_build() or self.rebuilt
        self.rules = IgnoreRules(config.ignore, config.excluded)
        self._pool: ExtractorPool | None = None
        self._vec_cache: dict[str, np.ndarray[Any, Any]] = {}
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
        # From here on this writer may change the table: until it closes cleanly, the next
        # one reconciles the table with the state record (recover) before trusting it.
        self.state.set_meta(CLEAN_CLOSE, "0")
        return ChunkStore(self.config.index_dir, self.embedder.dims)

    def _closed_cleanly(self) -> bool:
        """The last writer closed without an error, and the table's files are exactly as it
        left them (names, sizes, times: damage or tampering from outside takes the careful
        path, which finds and repairs it)."""
        return (
            self.state.get_meta(CLEAN_CLOSE) == "1"
            and not self.state.partial_docs()
            and self.state.get_meta(FTS_NAME) == FTS_INDEX_NAME
            and self.state.get_meta(LANCE_FINGERPRINT) == self._lance_fingerprint()
        )

    def _lance_fingerprint(self) -> str | None:
        root = self.config.index_dir / "lance"
        h = hashlib.blake2b(digest_size=16)
        found = False
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for name in sorted(filenames):
                try:
                    st = os.stat(os.path.join(dirpath, name))
                except OSError:
                    return None
                rel = os.path.relpath(os.path.join(dirpath, name), root)
                h.update(f"{rel}\0{st.st_size}\0{st.st_mtime_ns}\n".encode("utf-8", "replace"))
                found = True
        return h.hexdigest() if found else None

    def _build_matches(self) -> bool:
        have = (
            self.state.get_meta("embed_model"),
            self.state.get_meta("dims"),
            self.state.get_meta("chunker_version"),
        )
        return have == (self.embedder.model_id, str(self.embedder.dims), str(CHUNKER_VERSION))

    # -- lifecycle ----------------------------------------------------------------------------
    def close(self) -> None:
        """Stop workers, close the databases and release the writer lock.

        Closing while no exception is being raised records a clean close (see ``store``)."""
        if self._pool is not None:
            self._pool.close()
            self._pool = None
        if sys.exc_info()[0] is None:
            try:
                self.state.set_meta(LANCE_FINGERPRINT, self._lance_fingerprint() or "")
                if self._store is not None:  # it checked (and perhaps rebuilt) the FTS index
                    self.state.set_meta(FTS_NAME, FTS_INDEX_NAME)
                self.state.set_meta(CLEAN_CLOSE, "1")
            except sqlite3.Error as exc:  # only costs a reconciliation at the next start
                log.debug("Could not record a clean close: %s", exc)
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

    def _open_state(self, path: Path) -> StateDB:
        """Open the file-state record; a damaged one is set aside and started afresh.

        Nothing is lost by that: recovery adopts the chunks already in LanceDB, so files are
        matched to them again by content hash without being re-embedded.
        """
        try:
            db = StateDB(path)
            bad = db.conn.execute("PRAGMA quick_check").fetchone()[0]
            if bad == "ok":
                return db
            db.close()
            reason = f"integrity check failed: {bad}"
        except sqlite3.DatabaseError as exc:
            reason = str(exc)
        aside = path.with_name(f"{path.name}.damaged-{int(time.time())}")
        for suffix in ("", "-wal", "-shm"):
            src = Path(str(path) + suffix)
            if src.exists():
                os.replace(src, Path(str(aside) + suffix))
        log.error(
            "The file-state record was damaged (%s); kept it as %s and started afresh",
            reason,
            aside.name,
        )
        self.rebuilt = f"The index's file record was damaged ({reason}) and is being rebuilt"
        return StateDB(path)

    def _reset_store(self) -> None:
        import shutil

        shutil.rmtree(self.config.index_dir / "lance", ignore_errors=True)
        self._store = self._open_store()
        self._forget_all_docs()

    def _forget_all_docs(self) -> None:
        with self.state.transaction() as c:
            c.execute("DELETE FROM docs")
            c.execute(
                "UPDATE files SET state=?, reason=NULL, chunks=0 WHERE state IN (?, ?)",
                (PENDING, INDEXED, OFFLINE),
            )
        self._record_build()

    def _record_build(self) -> None:
        self.state.set_meta("embed_model", self.embedder.model_id)
        self.state.set_meta("dims", str(self.embedder.dims))
        self.state.set_meta("chunker_version", str(CHUNKER_VERSION))
        # A copy beside the vectors, so a lost state record does not orphan good vectors.
        build = self.config.index_dir / "lance" / BUILD_FILE
        build.parent.mkdir(parents=True, exist_ok=True)
        tmp = build.with_suffix(".tmp")
        tmp.write_text(
            json.dumps(
                {
                    "embed_model": self.embedder.model_id,
                    "dims": str(self.embedder.dims),
                    "chunker_version": str(CHUNKER_VERSION),
                }
            ),
            encoding="utf-8",
        )
        os.replace(tmp, build)

    def _build_from_file(self) -> tuple[str | None, str | None, str | None]:
        try:
            data = json.loads((self.config.index_dir / "lance" / BUILD_FILE).read_text("utf-8"))
            return (data.get("embed_model"), data.get("dims"), data.get("chunker_version"))
        except (OSError, ValueError, AttributeError):
            return (None, None, None)

    def _check_build(self) -> str | None:
        """Re-embed everything when the model or chunker differs from what built the index."""
        have = (
            self.state.get_meta("embed_model"),
            self.state.get_meta("dims"),
            self.state.get_meta("chunker_version"),
        )
        want = (self.embedder.model_id, str(self.embedder.dims), str(CHUNKER_VERSION))
        if have == (None, None, None) and not self.store.empty:
            have = self._build_from_file()  # the state record was lost; the vectors were not
            if have == want:
                self._record_build()
                return None
        if have == want:
            return None
        if have == (None, None, None) and self.store.empty:
            self._record_build()
            return None
        reason = (
            f"The index was built with {have[0]} ({have[1]}-d, chunker v{have[2]}); "
            f"re-indexing with {want[0]} ({want[1]}-d, chunker v{want[2]})"
        )
        log.warning("%s", reason)
        self.store.drop()
        self._forget_all_docs()
        return reason

    def recover(self) -> None:
        """Reconcile LanceDB and the state record after any interruption."""
        counts = self.store.doc_chunk_counts()
        with self.state.transaction() as c:
            known = {r[0]: r[1] for r in c.execute("SELECT hash, chunks FROM docs")}
            bad = [h for h, n in known.items() if counts.get(h, 0) != n]
            for h in bad:
                c.execute("DELETE FROM docs WHERE hash=?", (h,))
                c.execute(
                    "UPDATE files SET state=?, chunks=0 WHERE hash=? AND state IN (?, ?)",
                    (PENDING, h, INDEXED, OFFLINE),
                )
            # Chunks of a document committed in parts are not a finished document: they stay as
            # a vector cache for the redo, which replaces them (see _flush).
            partial = set(self.state.partial_docs())
            adopted = [h for h in counts if h not in known and h not in partial]
            for h in adopted:
                # Written by the keyword tier, perhaps without vectors: the semantic tier looks.
                self.state.add_doc(c, h, counts[h], None, None, unembedded=counts[h])
        if bad:
            self.store.delete_docs(bad)
            log.warning("Recovery: %d document(s) had missing chunks and will be redone", len(bad))
        if adopted:
            log.info("Recovery: kept %d document(s) written before an interruption", len(adopted))

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
        stop = should_stop or (lambda: False)
        self._semantic = semantic
        report = SyncReport(rebuilt=self.rebuilt)
        self.rebuilt = None
        progress = Progress(phase="scanning")
        self._emit(progress)
        roots = [Path(os.path.abspath(f)) for f in self.config.folders]
        paths = None if paths is None else [Path(os.path.abspath(q)) for q in paths]
        seen, scanned_roots = self._scan(roots, paths, report)
        # A watcher batch looks only at the records of its own paths (and what lies under
        # them), so one saved file costs the same in a folder of ten or ten thousand files.
        rows = self.state.files() if paths is None else self.state.files_at(map(str, paths))
        known = {r.path: r for r in rows}
        # Files that are gone (only where we looked, and only on reachable folders).
        looked_at = self._looked_at_fn(scanned_roots, paths)
        removed = [
            p
            for p, row in known.items()
            if p not in seen and row.state != OFFLINE and looked_at(Path(p))
        ]
        if paths is None:  # files of folders no longer configured
            removed += [p for p, row in known.items() if not self._under_any(Path(p), roots)]
        todo: list[tuple[FileInfo, Path]] = []
        for p, (fi, root) in seen.items():
            row = known.get(p)
            if (
                row is None
                or row.state == PENDING
                or (row.size, row.mtime_ns) != (fi.size, fi.mtime_ns)
                or row.state == OFFLINE
            ):
                todo.append((fi, root))
            else:
                report.unchanged += 1
        new_files = [(fi, root) for fi, root in todo if str(fi.path) not in known]
        if new_files:  # so that `status` can show them as pending while this run works
            with self.state.transaction() as c:
                for fi, root in new_files:
                    self.state.upsert_file(
                        c, str(fi.path), str(root), fi.size, fi.mtime_ns, None, PENDING, None, 0
                    )
        progress = Progress(
            phase="indexing", total=len(todo), bytes_total=sum(fi.size for fi, _ in todo)
        )
        self._emit(progress)
        if todo:
            self._process(todo, known, report, progress, stop)
        gone = set(removed)
        self._remove(gone)
        # A rename's old path is the other half of a move, not a removal.
        report.removed += sum(1 for p in gone if known[p].hash not in report.moved_hashes)
        if paths is None:
            self._ocr_stalled.clear()  # a full run tries every file's OCR again
        self._behind(stop, interrupt, report, progress, semantic)
        report.stopped = stop()
        if paths is None and not report.stopped:
            self._drop_stale_parts()
        # Vectors written by the semantic tier alone change the table too: compact them and let
        # the approximate vector index take them in (or be built once there are enough).
        self._changes_since_optimize += (
            report.added + report.updated + report.moved + report.removed + report.failed
        ) + (report.embedded + report.reused_vectors)
        if self._changes_since_optimize and not report.stopped and self._optimize_due(paths):
            self._emit(progress.finished("finishing"))
            self.optimize()
        report.seconds = time.monotonic() - t0
        report.semantic_pending = self.state.semantic_pending()[0]
        self._emit(progress.finished("idle"))
        return report

    def _behind(
        self,
        stop: StopFn,
        interrupt: StopFn | None,
        report: SyncReport,
        progress: Progress | None,
        semantic: bool = True,
    ) -> None:
        def halt() -> bool:
            return stop() or (interrupt is not None and interrupt())

        if not halt():
            self.read_scans(halt, report, progress)
        if semantic and not halt():
            self.embed_pending(halt, report, progress)

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
        report = SyncReport()
        progress = Progress(phase="embedding")
        stop = stop or (lambda: False)
        self._behind(stop, interrupt, report, progress)
        self._changes_since_optimize += report.embedded + report.reused_vectors
        done = not stop() and not (interrupt is not None and interrupt())
        if done and self._changes_since_optimize and not self.is_behind():
            self.optimize()
        report.seconds = time.monotonic() - t0
        report.semantic_pending = self.state.semantic_pending()[0]
        self._emit(progress.finished("idle"))
        return report

    def read_scans(
        self,
        stop: StopFn = lambda: False,
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
            to_extract: dict[str, list[tuple[FileInfo, Path]]] = {}
            for h in docs:
                entries = [
                    (FileInfo(Path(r.path), r.size, r.mtime_ns), Path(r.folder))
                    for r in files.get(h, [])
                    if r.state == INDEXED
                ]
                if entries:
                    to_extract[h] = entries
            if not to_extract:
                return True
            if progress is not None:
                progress.phase = "reading scanned pages"
                progress.current = str(next(iter(to_extract.values()))[0][0].path)
                self._emit(progress)
            if self._pool is None:
                self._pool = ExtractorPool(
                    self._tokenizer_path(),
                    self.config.chunker,
                    self.config.limits,
                    self.config.sandbox,
                )
            by_path = {str(e[0][0].path): h for h, e in to_extract.items()}
            self._embed_inline = False  # the semantic tier embeds the new pages' passages
            scratch, scratch_progress = SyncReport(), Progress(phase="reading scanned pages")
            first = [e[0][0].path for e in to_extract.values()]
            for ex in self._pool.run(first, stop, limits):
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
                if not self._flush(
                    [(h, ex)], {h: to_extract[h]}, {}, scratch, scratch_progress, stop
                ):
                    return False
                report.chunks += len(ex.chunks)
                log.info("%s: %d scanned page(s) still to read", ex.path, ex.ocr_pending)
        return False

    def embed_pending(
        self,
        stop: StopFn = lambda: False,
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
        done = 0
        for i in range(0, len(docs), 64):
            group = [h for h, _ in docs[i : i + 64]]
            rows = self.store.unembedded(group)
            left = {h: 0 for h in group}
            for r in rows:
                left[r["doc"]] += 1
            vectors: dict[str, np.ndarray[Any, Any]] = {}
            cached = self.store.vectors_for_text_hashes({r["th"] for r in rows})
            self._vec_cache.update(cached)
            need = [r for r in rows if r["th"] not in self._vec_cache]
            for r in rows:
                if r["th"] in self._vec_cache:
                    vectors[r["chunk_id"]] = self._vec_cache[r["th"]]
                    left[r["doc"]] -= 1
            report.reused_vectors += len(rows) - len(need)
            step = EMBED_PROGRESS_STEP
            for j in range(0, len(need), step):
                if stop():
                    self._commit_vectors(vectors, left)
                    return False
                part = need[j : j + step]
                texts = list(dict.fromkeys(r[FTS_TEXT] for r in part))
                made = dict(zip(texts, self.embedder.embed(texts), strict=True))
                for r in part:
                    v = made[r[FTS_TEXT]]
                    self._vec_cache[r["th"]] = v
                    vectors[r["chunk_id"]] = v
                    left[r["doc"]] -= 1
                report.embedded += len(texts)
                done += len(part)
                if progress is not None:
                    progress.embedded += len(texts)
                    progress.passages_done = done
                    self._emit(progress)
                if len(vectors) >= LARGE_DOC_PASSAGES:
                    self._commit_vectors(vectors, left)
            self._commit_vectors(vectors, left)
            if len(self._vec_cache) > 50_000:
                self._vec_cache.clear()
        if progress is not None:
            progress.passages_done = progress.passages_total = 0
        return True

    def _commit_vectors(
        self, vectors: dict[str, np.ndarray[Any, Any]], left: dict[str, int]
    ) -> None:
        """Write ``vectors`` (then forget them) and each document's count still without one:
        LanceDB first, so a crash between the two only makes a later run look for nothing."""
        self.store.set_vectors(vectors)
        with self.state.transaction() as c:
            for h, n in left.items():
                self.state.set_unembedded(c, h, n)
        vectors.clear()

    def _drop_stale_parts(self) -> None:
        """Remove parts of documents that a complete run did not finish (the file vanished or
        changed while it was being indexed)."""
        stale = self.state.partial_docs()
        if stale:
            self.store.delete_docs(stale)
            with self.state.transaction() as c:
                self.state.clear_partial(c, stale)
            log.info("Removed the parts of %d unfinished document(s)", len(stale))

    def purge_folder(self, folder: Path) -> int:
        """Forget every file under ``folder`` (the user removed it from the configuration)."""
        prefix = str(Path(os.path.abspath(folder)))
        rows = [r.path for r in self.state.files() if self._under(Path(r.path), Path(prefix))]
        gone = set(rows)
        self._remove(gone)
        return len(gone)

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

    def optimize(self) -> None:
        """Compact LanceDB and delete old versions so the index does not grow without bound."""
        self._changes_since_optimize = 0
        self._last_optimize = time.monotonic()
        try:
            # The state database knows how many passages still wait for a vector, which
            # spares the store a scan of the vector column to size the approximate index.
            vectors = max(0, self.store.count() - self.state.semantic_pending()[0])
            self.store.optimize(timedelta(minutes=self.config.keep_versions_minutes), vectors)
        except Exception as exc:  # compaction is housekeeping: never fail a run for it
            log.warning("Index compaction failed: %s", exc)

    # -- steps ----------------------------------------------------------------------------------
    def _scan(
        self, roots: list[Path], paths: Iterable[Path] | None, report: SyncReport
    ) -> tuple[dict[str, tuple[FileInfo, Path]], list[Path]]:
        seen: dict[str, tuple[FileInfo, Path]] = {}
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
        if paths is None:
            for root in reachable:
                for fi in walk(root, self.rules):
                    seen.setdefault(str(fi.path), (fi, root))
            return seen, reachable
        for raw in paths:
            p = Path(os.path.abspath(raw))
            owner = next((r for r in reachable if self._under(p, r)), None)
            if owner is None or (self.rules.ignored(p, owner) and not p.is_dir()):
                continue
            if p.is_dir():
                # A folder event: skip it when the folder itself or a parent is ignored.
                if p != owner and self.rules.ignored(p / "probe.txt", owner):
                    continue
                for fi in walk(p, self.rules, owner):
                    seen.setdefault(str(fi.path), (fi, owner))
            else:
                try:
                    st = p.stat()
                except OSError:
                    continue
                seen.setdefault(str(p), (FileInfo(p, st.st_size, st.st_mtime_ns), owner))
        return seen, reachable

    @staticmethod
    def _looked_at_fn(roots: list[Path], paths: Iterable[Path] | None) -> Callable[[Path], bool]:
        """A test for "this path was looked at by the scan": it lies under a scanned root and,
        for a partial sync, is one of ``paths`` or lies under one of them.

        Linear in the number of known files (a set lookup per ancestor), since a watcher batch can
        hold thousands of paths and the index hundreds of thousands of files.
        """
        root_set = set(roots)
        wanted = None if paths is None else {Path(os.path.abspath(q)) for q in paths}

        def looked_at(p: Path) -> bool:
            lineage = (p, *p.parents)
            if root_set.isdisjoint(lineage):
                return False
            return wanted is None or not wanted.isdisjoint(lineage)

        return looked_at

    @staticmethod
    def _under(p: Path, root: Path) -> bool:
        return p == root or root in p.parents

    def _under_any(self, p: Path, roots: list[Path]) -> bool:
        return any(self._under(p, r) for r in roots)

    def _process(
        self,
        todo: list[tuple[FileInfo, Path]],
        known: dict[str, Any],
        report: SyncReport,
        progress: Progress,
        stop: StopFn,
    ) -> None:
        to_extract: dict[str, list[tuple[FileInfo, Path]]] = {}
        for fi, root in todo:
            if stop():
                return
            p = str(fi.path)
            try:
                h = content_hash(fi.path)
            except OSError as exc:
                self._fail(fi, root, "unreadable", _os_reason(exc), report, progress)
                continue
            row = known.get(p)
            doc = self.state.doc(h)
            if doc is not None:
                with self.state.transaction() as c:
                    self.state.upsert_file(
                        c, p, str(root), fi.size, fi.mtime_ns, h, INDEXED, None, int(doc["chunks"])
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
            if row is not None and row.hash == h and row.state not in (INDEXED, PENDING, OFFLINE):
                # Same bytes that failed before: do not retry forever, just note the new mtime.
                with self.state.transaction() as c:
                    self.state.upsert_file(
                        c, p, str(root), fi.size, fi.mtime_ns, h, row.state, row.reason, 0
                    )
                progress.file_done(fi.size, failed=True)
                continue
            to_extract.setdefault(h, []).append((fi, root))
        if not to_extract:
            return
        # A few changed files (the watcher's usual case) get their vectors in the same commit,
        # so they appear in both tiers at once; a larger set is made keyword-searchable first
        # and embedded behind it (embed_pending), so the whole folder can be found early.
        self._embed_inline = self._semantic and len(to_extract) <= INLINE_EMBED_FILES
        if self._pool is None:
            self._pool = ExtractorPool(
                self._tokenizer_path(), self.config.chunker, self.config.limits, self.config.sandbox
            )
        by_path = {str(entries[0][0].path): h for h, entries in to_extract.items()}
        batch: list[tuple[str, Extracted]] = []
        batch_chunks = 0
        first = [entries[0][0].path for entries in to_extract.values()]
        progress.current = str(first[0])  # being read; updated as results come in
        self._emit(progress)
        for ex in self._pool.run(first, stop):
            h = by_path[str(ex.path)]
            entries = to_extract[h]
            progress.current = str(ex.path)
            if not ex.ok:
                for fi, root in entries:
                    # Keep the hash so the same bytes are not retried on every touch.
                    self._fail(fi, root, ex.state or "failed", ex.reason or "", report, progress, h)
                continue
            batch.append((h, ex))
            batch_chunks += len(ex.chunks)
            if batch_chunks >= self.config.batch_chunks:
                if not self._flush(batch, to_extract, known, report, progress, stop):
                    return
                batch, batch_chunks = [], 0
        if batch:
            self._flush(batch, to_extract, known, report, progress, stop)

    def _flush(
        self,
        batch: list[tuple[str, Extracted]],
        to_extract: dict[str, list[tuple[FileInfo, Path]]],
        known: dict[str, Any],
        report: SyncReport,
        progress: Progress,
        stop: StopFn,
    ) -> bool:
        """Embed and commit a batch of extracted documents; False when stopped part-way."""
        rows: list[dict[str, Any]] = []
        texts: list[str] = []
        for h, ex in batch:
            for ch in ex.chunks:
                rows.append(
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
                )
                texts.append(ch.embed_text)
        progress.current = str(to_extract[batch[-1][0]][0][0].path)
        progress.batch_bytes = sum(fi.size for h, _ in batch for fi, _root in to_extract[h])
        progress.batch_files = len(batch)
        unembedded: dict[str, int] = {}
        if self._embed_inline:
            large = {h for h, ex in batch if len(ex.chunks) > LARGE_DOC_PASSAGES}
            if large:
                self.state.mark_partial(sorted(large))
            if not self._attach_vectors(rows, texts, report, progress, large, stop):
                return False
        else:
            # Keyword tier: the passages go in now; vectors only where the same text has one.
            large = set()
            self._cached_vectors(rows)
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
                    p = str(fi.path)
                    self.state.upsert_file(
                        c, p, str(root), fi.size, fi.mtime_ns, h, INDEXED, None, len(ex.chunks)
                    )
                    prev = known.get(p)
                    if prev is not None and prev.hash is not None:
                        report.updated += 1
                    else:
                        report.added += 1  # new, or recorded as pending by an earlier run
                    progress.file_done(fi.size)
        progress.batch_bytes = progress.batch_files = 0
        report.chunks += len(rows)
        self._emit(progress)
        return True

    def _attach_vectors(
        self,
        rows: list[dict[str, Any]],
        texts: list[str],
        report: SyncReport,
        progress: Progress | None = None,
        large: set[str] | frozenset[str] = frozenset(),
        stop: StopFn = lambda: False,
    ) -> bool:
        """Give every row its vector, embedding only texts not seen before.

        Chunks of ``large`` documents are committed in parts as their vectors are made. Returns
        False when ``stop`` asked to stop between slices (the parts made so far are committed).
        """
        ths = [r["th"] for r in rows]
        missing = [t for t in dict.fromkeys(ths) if t not in self._vec_cache]
        if missing:
            self._vec_cache.update(self.store.vectors_for_text_hashes(missing))
        need: dict[str, str] = {}
        for th, text in zip(ths, texts, strict=True):
            if th not in self._vec_cache:
                need.setdefault(th, text)
        written: set[str] = set()

        def commit_part() -> None:
            part = [
                {**r, "vector": self._vec_cache[r["th"]]}
                for r in rows
                if r["doc"] in large and r["chunk_id"] not in written and r["th"] in self._vec_cache
            ]
            if part:
                self.store.add_rows(part)
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
                self._vec_cache[th] = v
            since_commit += len(vecs)
            if progress is not None:
                progress.embedded += len(vecs)
        if progress is not None:
            progress.passages_done = progress.passages_total = 0
        report.embedded += len(need)
        report.reused_vectors += len(rows) - len(need)
        for r in rows:
            r["vector"] = self._vec_cache[r["th"]]
        if len(self._vec_cache) > 50_000:
            self._vec_cache.clear()
        return True

    def _cached_vectors(self, rows: list[dict[str, Any]]) -> None:
        """Give rows the vectors their texts already have (an edited file keeps most), else
        None, without embedding anything."""
        ths = [r["th"] for r in rows]
        missing = [t for t in dict.fromkeys(ths) if t not in self._vec_cache]
        if missing:
            self._vec_cache.update(self.store.vectors_for_text_hashes(missing))
        for r in rows:
            r["vector"] = self._vec_cache.get(r["th"])

    def _fail(
        self,
        fi: FileInfo,
        root: Path,
        state: str,
        reason: str,
        report: SyncReport,
        progress: Progress,
        hash_: str | None = None,
    ) -> None:
        with self.state.transaction() as c:
            self.state.upsert_file(
                c, str(fi.path), str(root), fi.size, fi.mtime_ns, hash_, state, reason, 0
            )
        log.info("Not indexed: %s (%s: %s)", fi.path, state, reason)
        report.failed += 1
        progress.file_done(fi.size, failed=True)
        self._emit(progress)

    def _remove(self, paths: set[str]) -> None:
        """Forget these files, and the chunks of documents no file refers to any more."""
        if paths:
            with self.state.transaction() as c:
                self.state.delete_files(c, paths)
        orphans = self.state.unreferenced_docs()
        if orphans:
            with self.state.transaction() as c:
                c.executemany("DELETE FROM docs WHERE hash=?", ((h,) for h in orphans))
            self.store.delete_docs(orphans)

    def _tokenizer_path(self) -> Path:
        tok = self.embedder.spec.tokenizer
        assert tok is not None
        return tok

    def _emit(self, progress: Progress) -> None:
        if self.on_progress is not None:
            self.on_progress(progress)


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "Permission denied: Findling cannot read this file"
    if isinstance(exc, FileNotFoundError):
        return "The file vanished before it could be read"
    return f"Cannot read the file: {exc.strerror or exc}"


def lower_thread_priority(increment: int = 10) -> None:
    """Lower the CPU priority of the calling thread (Linux) or process (elsewhere)."""
    try:
        if sys.platform.startswith("linux"):
            import threading

            tid = threading.get_native_id()
            cur = os.getpriority(os.PRIO_PROCESS, tid)
            os.setpriority(os.PRIO_PROCESS, tid, min(19, cur + increment))
        else:
            from indexer.sandbox import lower_priority

            lower_priority(increment)
    except (OSError, AttributeError):
        pass

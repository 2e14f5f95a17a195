"""What built an index, whether its last writer closed cleanly, and recovery after a crash.

The build is the embedding model, its width and the chunker version: vectors made by another
build cannot be compared with new ones, so a changed build re-indexes. It is kept in the state
record and, as a copy, beside the vectors, so a lost state record does not orphan them. An index
that answers searches is not dropped for that: :func:`choose_generation` has the new build made
in a generation of its own beside it (see :mod:`indexer.generations`).

A writer that closes without an error records a *clean close* together with a fingerprint of
the table's files; the next writer then trusts the two stores to agree and skips opening
LanceDB when it has nothing to write. Anything else takes the careful path: :func:`recover`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from indexer import generations
from indexer.chunk import CHUNKER_VERSION
from indexer.fsutil import atomic_write_bytes
from indexer.generations import Pointer
from indexer.layout import IndexLayout
from indexer.state import StateDB
from indexer.store import FTS_INDEX_NAME, ChunkStore
from models.embedder import Embedder

log = logging.getLogger(__name__)

CLEAN_CLOSE = "clean_close"  # state meta: "1" when the last writer closed without an error
FTS_NAME = "fts_index"  # state meta: the full-text index settings checked at that close
LANCE_FINGERPRINT = "lance_fingerprint"  # state meta: the table's files at that clean close
BUILD_KEYS = ("embed_model", "dims", "chunker_version")  # state meta: the build


@dataclass(frozen=True)
class Build:
    """Which model and chunker made an index's passages and vectors (strings, as stored)."""

    embed_model: str | None = None
    dims: str | None = None
    chunker_version: str | None = None

    @classmethod
    def of(cls, embedder: Embedder) -> Build:
        """The build this Findling would make with ``embedder``."""
        return cls(embedder.model_id, str(embedder.dims), str(CHUNKER_VERSION))

    @property
    def unknown(self) -> bool:
        """Nothing recorded."""
        return self == Build()

    def __str__(self) -> str:
        return f"{self.embed_model} ({self.dims}-d, chunker v{self.chunker_version})"


class BuildRecord:
    """The build and clean-close marks of one index, in its state record and beside the table."""

    def __init__(self, state: StateDB, layout: IndexLayout, embedder: Embedder) -> None:
        self.state = state
        self.layout = layout
        self.want = Build.of(embedder)

    def recorded(self) -> Build:
        """The build the state record names."""
        return Build(*(self.state.get_meta(k) for k in BUILD_KEYS))

    def from_file(self) -> Build:
        """The build named by the copy beside the vectors."""
        try:
            data = json.loads(self.layout.build_file.read_text("utf-8"))
            return Build(data.get("embed_model"), data.get("dims"), data.get("chunker_version"))
        except (OSError, ValueError, AttributeError):
            return Build()

    def matches(self) -> bool:
        """Whether the recorded build is the one this Findling makes."""
        return self.recorded() == self.want

    def write(self) -> None:
        """Record the wanted build, in the state record and beside the vectors."""
        for key, value in asdict(self.want).items():
            self.state.set_meta(key, value)
        atomic_write_bytes(self.layout.build_file, json.dumps(asdict(self.want)).encode())

    def forget_all(self) -> None:
        """Every document is to be made again with the wanted build."""
        self.state.forget_all_docs()
        self.write()

    def check(self, store: ChunkStore) -> str | None:
        """Drop and redo everything when another model or chunker built the index; returns why,
        for the user, or None when the build is current."""
        have = self.recorded()
        if have.unknown and not store.empty:
            have = self.from_file()  # the state record was lost; the vectors were not
            if have == self.want:
                self.write()
                return None
        if have == self.want:
            return None
        if have.unknown and store.empty:
            self.write()
            return None
        reason = f"The index was built with {have}; re-indexing with {self.want}"
        log.warning("%s", reason)
        store.drop()
        self.forget_all()
        return reason

    # -- clean close ---------------------------------------------------------------------------
    def closed_cleanly(self) -> bool:
        """The last writer closed without an error, and the table's files are exactly as it
        left them (names, sizes, times: damage or tampering from outside takes the careful
        path, which finds and repairs it)."""
        return (
            self.state.get_meta(CLEAN_CLOSE) == "1"
            and not self.state.partial_docs()
            and self.state.get_meta(FTS_NAME) == FTS_INDEX_NAME
            and self.state.get_meta(LANCE_FINGERPRINT) == lance_fingerprint(self.layout)
        )

    def mark_open(self) -> None:
        """A writer may change the table from now on: until it closes cleanly, the next one
        reconciles the table with the state record before trusting it."""
        self.state.set_meta(CLEAN_CLOSE, "0")

    def mark_closed(self, *, fts_checked: bool) -> None:
        """Record a clean close (``fts_checked``: this writer opened the table, which checked
        and perhaps rebuilt the full-text index)."""
        try:
            self.state.set_meta(LANCE_FINGERPRINT, lance_fingerprint(self.layout) or "")
            if fts_checked:
                self.state.set_meta(FTS_NAME, FTS_INDEX_NAME)
            self.state.set_meta(CLEAN_CLOSE, "1")
        except sqlite3.Error as exc:  # only costs a reconciliation at the next start
            log.debug("Could not record a clean close: %s", exc)


def recorded_build(layout: IndexLayout) -> tuple[Build, int]:
    """The build a generation's file record names and how many documents it holds, read
    without writing (unknown and 0 where there is no readable record)."""
    if not layout.state.exists():
        return Build(), 0
    try:
        db = StateDB(layout.state, readonly=True)
    except sqlite3.Error:
        return Build(), 0
    try:
        have = Build(*(db.get_meta(k) for k in BUILD_KEYS))
        docs = int(db.conn.execute("SELECT COUNT(*) FROM docs").fetchone()[0])
    except sqlite3.Error:
        return Build(), 0
    finally:
        db.close()
    return have, docs


def choose_generation(root: Path, want: Build) -> tuple[IndexLayout, Build | None]:
    """The generation a writer that makes ``want`` writes to (the writer lock held), and the
    build of the active generation it is to replace (None: it writes the active one).

    An active generation that holds documents made by another known build keeps answering
    searches: the new build goes into the generation being built (resumed where an earlier
    writer left it), or into a new one. Otherwise the active generation is written (an empty
    or unknown one is redone in place by :meth:`BuildRecord.check`). Generations named by
    nobody are deleted.
    """
    ptr = generations.read_pointer(root)
    active = IndexLayout(root, ptr.active)
    have, docs = recorded_build(active)
    if have == want or have.unknown or not docs:
        if ptr.building is not None:
            log.info("Abandoning the index being built in %s: it is not needed", ptr.building)
            generations.write_pointer(root, Pointer(ptr.active))
        generations.sweep(root, {ptr.active})
        return active, None
    target = ptr.building
    if target is not None:
        built, _ = recorded_build(active.at(target))
        if not (built == want or built.unknown):  # made for a build wanted before this one
            target = None
    if target is None:
        target = generations.new_name(root, ptr)
        generations.write_pointer(root, Pointer(ptr.active, target))
        log.warning("The index was built with %s; building %s with %s", have, target, want)
    generations.sweep(root, {ptr.active, target})
    return active.at(target), have


def lance_fingerprint(layout: IndexLayout) -> str | None:
    """A hash of the names, sizes and times of the table's files (None: no table, or a file
    vanished while it was read)."""
    root = layout.lance
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


def open_state(path: Path) -> tuple[StateDB, str | None]:
    """Open the file-state record; a damaged one is set aside and started afresh.

    Nothing is lost by that: recovery adopts the chunks already in LanceDB, so files are
    matched to them again by content hash without being re-embedded. Returns the record and,
    when it was damaged, why (for the user).
    """
    try:
        db = StateDB(path)
        bad = db.quick_check()
        if bad == "ok":
            return db, None
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
    return StateDB(path), f"The index's file record was damaged ({reason}) and is being rebuilt"


def recover(state: StateDB, store: ChunkStore) -> None:
    """Reconcile LanceDB and the state record after any interruption.

    Chunks written by a batch whose SQLite commit never happened are *adopted* (the work is
    kept, not redone); documents whose chunks are missing or incomplete are dropped and their
    files queued again.
    """
    counts = store.doc_chunk_counts()
    with state.transaction() as c:
        known = state.doc_chunks()
        bad = [h for h, n in known.items() if counts.get(h, 0) != n]
        state.requeue_docs(c, bad)
        # Chunks of a document committed in parts are not a finished document: they stay as
        # a vector cache for the redo, which replaces them.
        partial = set(state.partial_docs())
        adopted = [h for h in counts if h not in known and h not in partial]
        for h in adopted:
            # Written by the keyword tier, perhaps without vectors: the semantic tier looks.
            state.add_doc(c, h, counts[h], None, None, unembedded=counts[h])
    if bad:
        store.delete_docs(bad)
        log.warning("Recovery: %d document(s) had missing chunks and will be redone", len(bad))
    if adopted:
        log.info("Recovery: kept %d document(s) written before an interruption", len(adopted))

"""What an index holds, read without taking the writer lock: one reader for every front end."""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from indexer.generations import read_pointer
from indexer.layout import IndexLayout
from indexer.lock import holder
from indexer.state import EMBED_PROVIDER, FileRow, StateDB
from indexer.states import FileState, is_failure

log = logging.getLogger(__name__)


@dataclass
class IndexStatus:
    """A snapshot of one index: its files, their states and the work still behind it."""

    files: list[FileRow] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # files per state
    unembedded: set[str] = field(default_factory=set)  # documents not yet meaning-searchable
    semantic_pending: int = 0  # passages still waiting for a vector
    semantic_pending_files: int = 0  # indexed files whose meaning search is not ready yet
    ocr_pending_pages: int = 0  # scanned pages still to be read
    build: dict[str, str | None] = field(default_factory=dict)  # embed_model, dims, chunker
    embed_provider: str | None = None  # the ONNX Runtime provider the last writer embedded on
    size: int = 0  # bytes on disk, the whole index folder
    writer: dict[str, Any] | None = None  # who holds the writer lock, if anyone
    # The index being built with another model or chunker while this one answers, if any:
    # embed_model, dims, chunker_version, files (found so far), files_done, semantic_pending.
    rebuild: dict[str, Any] | None = None

    @property
    def failed(self) -> list[FileRow]:
        """Files that could not be indexed, by path."""
        return [r for r in self.files if is_failure(r.state)]

    @property
    def passages(self) -> int:
        """Passages of the files that are indexed."""
        return sum(r.chunks for r in self.files if r.state == FileState.INDEXED)

    def semantic(self, row: FileRow) -> bool:
        """Whether meaning (vector) search is ready for this file: the second tier is done."""
        searchable = row.state in (FileState.INDEXED, FileState.OFFLINE)
        return searchable and row.hash not in self.unembedded


def read_status(index_dir: Path, *, files: bool = True) -> IndexStatus:
    """Read the state record (read-only, never blocks the writer) and the size on disk.

    Args:
        index_dir: The index folder.
        files: Also list every file (``status --json`` does; a progress line needs counts only).
    """
    pointer = read_pointer(index_dir)
    layout = IndexLayout(index_dir, pointer.active)
    st = IndexStatus()
    if layout.state.exists():
        try:
            db = StateDB(layout.state, readonly=True)
        except sqlite3.Error as exc:  # e.g. busy while a writer migrates it
            log.warning("Cannot read the index status: %s", exc)
        else:
            try:
                st.counts = db.counts()
                if files:
                    st.files = db.files()
                st.unembedded = db.unembedded_hashes()
                st.semantic_pending, st.semantic_pending_files = db.semantic_pending()
                st.ocr_pending_pages = sum(n for _, n in db.ocr_pending_docs())
                st.build = {k: db.get_meta(k) for k in ("embed_model", "dims", "chunker_version")}
                st.embed_provider = db.get_meta(EMBED_PROVIDER)
            except sqlite3.Error as exc:
                log.warning("Cannot read the index status: %s", exc)
            finally:
                db.close()
    if pointer.building is not None:
        st.rebuild = _rebuild(layout.at(pointer.building))
    st.size = _size(index_dir)
    st.writer = holder(index_dir)
    return st


def _rebuild(layout: IndexLayout) -> dict[str, Any]:
    """How far the generation being built has come (zeros before its writer first opened it)."""
    out: dict[str, Any] = {
        "embed_model": None,
        "dims": None,
        "chunker_version": None,
        "files": 0,
        "files_done": 0,
        "semantic_pending": 0,
    }
    if not layout.state.exists():
        return out
    try:
        db = StateDB(layout.state, readonly=True)
    except sqlite3.Error as exc:
        log.warning("Cannot read the progress of the index being built: %s", exc)
        return out
    try:
        for k in ("embed_model", "dims", "chunker_version"):
            out[k] = db.get_meta(k)
        counts = db.counts()
        out["files"] = sum(counts.values())
        out["files_done"] = out["files"] - counts.get(FileState.PENDING, 0)
        out["semantic_pending"] = db.semantic_pending()[0]
    except sqlite3.Error as exc:
        log.warning("Cannot read the progress of the index being built: %s", exc)
    finally:
        db.close()
    return out


def _size(root: Path) -> int:
    total = 0
    for folder, _dirs, names in os.walk(root):
        for name in names:
            with contextlib.suppress(OSError):
                total += os.stat(os.path.join(folder, name)).st_size
    return total

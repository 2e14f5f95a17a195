"""Shared checks for the reliability tests."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path
from typing import Any

FINAL_STATES = {
    "indexed",
    "encrypted",
    "no-text",
    "corrupt",
    "too-large",
    "empty",
    "unsupported",
    "unreadable",
    "failed",
}


def consistent(index_dir: Path, dims: int = 384) -> dict[str, int]:
    """Assert state.sqlite and LanceDB agree exactly; return chunks per document."""
    from indexer.generations import active_layout
    from indexer.state import StateDB
    from indexer.store import ChunkStore

    layout = active_layout(index_dir)  # the generation that answers searches
    db = StateDB(layout.state, readonly=True)
    try:
        docs = {r[0]: r[1] for r in db.conn.execute("SELECT hash, chunks FROM docs")}
        files = db.files()
    finally:
        db.close()
    counts = ChunkStore(layout, dims, readonly=True).doc_chunk_counts()
    orphans = set(counts) - set(docs)
    missing = {h for h in docs if counts.get(h, 0) != docs[h]}
    assert not orphans, f"{len(orphans)} orphan document(s) in LanceDB"
    assert not missing, f"{len(missing)} document(s) with missing/extra chunks"
    for f in files:
        if f.state in ("indexed", "offline"):
            assert f.hash in docs, f"{f.path} points at a document that is not there"
            assert f.chunks == docs[f.hash]
    return counts


def snapshot(root: Path) -> dict[str, Any]:
    """Content hash, mtime, ctime, mode of every file and the listing of every folder."""
    snap: dict[str, Any] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        snap[dirpath + "/"] = sorted(dirnames + filenames)
        for name in filenames:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            digest = None
            if stat.S_ISREG(st.st_mode):
                digest = hashlib.sha256(Path(p).read_bytes()).hexdigest()
            snap[p] = (digest, st.st_mtime_ns, st.st_ctime_ns, st.st_mode, st.st_size, st.st_nlink)
    return snap
